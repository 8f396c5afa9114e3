/**
 * Two nodes on one PostgreSQL store, each with its own alerter, while both
 * record alertable events: every event is alerted exactly once, by one node
 * or the other (the cursor's compare-and-set), none twice and none lost.
 * Needs PostgreSQL on 127.0.0.1:5432 with trust authentication.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { Alerter, type AlertChannel } from '../../src/alerts/alerter.js';
import { ALERT_KINDS } from '../../src/alerts/rules.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { INSERT_EVENTS } from '../../src/store/backends/postgres/events.js';
import { openStore, type Store } from '../../src/store/index.js';

const SERVER = 'postgres://postgres@127.0.0.1:5432';
const DB = `postern_alerts_${randomBytes(6).toString('hex')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'postern-alerts-pg-'));
const stores: Store[] = [];

beforeAll(async () => {
  const root = new pg.Client({ connectionString: `${SERVER}/postgres`, connectionTimeoutMillis: 5000 });
  await root.connect();
  try {
    await root.query(`CREATE DATABASE ${DB}`);
  } finally {
    await root.end();
  }
});

afterAll(async () => {
  for (const s of stores) await s.close();
  const root = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await root.connect();
  try {
    await root.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  } finally {
    await root.end();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A channel that only remembers what it was asked to send. */
function capture(into: Alert[]): AlertChannel {
  return { name: 'webhook', send: async (a) => void into.push(a) };
}

describe('alerts on two nodes sharing PostgreSQL', () => {
  it('sends each alert once', async () => {
    const url = `${SERVER}/${DB}`;
    const [a, b] = [await openStore({ backend: 'postgres', url, dataDir: dir }), await openStore({ backend: 'postgres', url, dataDir: dir })];
    stores.push(a!, b!);
    const got: [Alert[], Alert[]] = [[], []];
    const opts = { host: 'node', minSeverity: 'warning' as const, pollMs: 20, maxPerWindow: 100_000, windowMs: 600_000 };
    const alerters = [new Alerter(a!.meta.events, [capture(got[0])], opts, systemClock, silentLogger()), new Alerter(b!.meta.events, [capture(got[1])], opts, systemClock, silentLogger())];
    // Both have found the cursor before events arrive (earlier events never alert).
    for (const x of alerters) await x.pass();
    for (const x of alerters) x.start();

    const kinds = ALERT_KINDS.filter((k) => k !== 'availability.downtime');
    const N = 400;
    // Both nodes record at once, in parallel batches, as busy nodes would.
    const record = async (s: Store, from: number) => {
      for (let i = from; i < N; i += 20) {
        await Promise.all(Array.from({ length: 10 }, (_, j) => s.meta.events.record(kinds[(i + j) % kinds.length]!, `e${i + j}`, { days: 30 }, Date.now())));
      }
    };
    await Promise.all([record(a!, 0), record(b!, 10)]);
    // Unrelated events in between must not disturb the cursor.
    await a!.meta.events.record('server.heartbeat', 'node-a', {}, Date.now());

    const deadline = Date.now() + 60_000;
    while (got[0].length + got[1].length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // A few more passes: anything sent twice would show now.
    await new Promise((r) => setTimeout(r, 300));
    for (const x of alerters) await x.stop();

    const subjects = [...got[0], ...got[1]].map((x) => x.subject);
    expect(subjects).toHaveLength(N);
    expect(new Set(subjects).size).toBe(N);
    expect(new Set(subjects)).toEqual(new Set(Array.from({ length: N }, (_, i) => `e${i}`)));
  }, 90_000);

  it('never lets a later event be seen before an earlier one commits: ids are drawn in commit order', async () => {
    const url = `${SERVER}/${DB}`;
    const s = await openStore({ backend: 'postgres', url, dataDir: dir });
    stores.push(s);
    const kind = ALERT_KINDS.find((k) => k !== 'availability.downtime')!;
    const [before] = await s.meta.events.list(undefined, 1);
    const from = before?.id ?? 0;
    // Another node's insert, drawn first and committed late.
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(INSERT_EVENTS, [[Date.now()], [kind], ['drawn first'], ['{}']]);
      let settled = false;
      const later = s.meta.events.record(kind, 'drawn second', {}, Date.now()).then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      // The second insert waits for the first to commit; until then a tail sees neither.
      expect(settled).toBe(false);
      expect(await s.meta.events.after(from, [kind], 100)).toEqual([]);
      await other.query('COMMIT');
      await later;
      expect((await s.meta.events.after(from, [kind], 100)).map((e) => e.subject)).toEqual(['drawn first', 'drawn second']);
    } finally {
      await other.end();
    }
  }, 30_000);
});
