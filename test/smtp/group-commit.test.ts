/**
 * Messages finished at the same moment share one queue commit (one fsync).
 * A commit that fails must fail every message it carried: each client gets
 * 451 and nothing is queued; none is acknowledged on the strength of a sync
 * that did not happen.
 */
import type Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queueIdOf, startHarness, type Harness } from '../support/harness.js';
import { closeAllRaw, RawClient } from '../support/raw.js';

const CLIENTS = 8;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ deliver: false });
});
afterEach(() => closeAllRaw());
afterAll(async () => {
  closeAllRaw();
  await h?.close();
});

/** Clients each in the middle of DATA, all but the final dot sent. */
async function openTransactions(n: number, tag: string): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await RawClient.plain(h.ports.mx);
    expect((await c.reply())?.code).toBe(220);
    expect((await c.cmd('EHLO batch.example.test'))?.code).toBe(250);
    expect((await c.cmd('MAIL FROM:<a@elsewhere.test>'))?.code).toBe(250);
    expect((await c.cmd(`RCPT TO:<${h.users.alice.address}>`))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    c.write(`Subject: ${tag} ${i}\r\n\r\nbody ${i}\r\n`);
    clients.push(c);
  }
  return clients;
}

/** Ends every message in the same turn, so their queue entries are committed together. */
async function finishAll(clients: RawClient[]): Promise<number[]> {
  for (const c of clients) c.write('.\r\n');
  return Promise.all(clients.map(async (c) => (await c.reply())?.code ?? 0));
}

describe('group commit of queue entries', () => {
  it('acknowledges every message of a batch, each queued once', async () => {
    const clients = await openTransactions(CLIENTS, 'together');
    for (const c of clients) c.write('.\r\n');
    const replies = await Promise.all(clients.map((c) => c.reply()));
    expect(replies.map((r) => r?.code)).toEqual(Array(CLIENTS).fill(250));
    const ids = replies.map((r) => queueIdOf(r!.text));
    expect(new Set(ids).size).toBe(CLIENTS);
    for (const id of ids) expect(await h.store.meta.queue.getMessage(id)).not.toBeNull();
  });

  it('answers 451 to every message of a batch whose commit fails, and queues none', async () => {
    const before = (await h.pending()).length;
    const clients = await openTransactions(CLIENTS, 'doomed');
    // The disk fails at commit (as an fsync error would) for as long as the batch is written.
    const db = (h.store.meta.queue as unknown as { db: Database.Database }).db;
    const original = db.transaction.bind(db);
    let commits = 0;
    db.transaction = ((fn: (...a: unknown[]) => unknown) => {
      const tx = original(fn);
      const failing = Object.assign((...a: unknown[]) => tx(...a), tx, {
        immediate: () => {
          commits++;
          throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_FSYNC' });
        },
      });
      return failing;
    }) as unknown as typeof db.transaction;
    let codes: number[];
    try {
      codes = await finishAll(clients);
    } finally {
      db.transaction = original;
    }
    expect(commits).toBeGreaterThan(0);
    expect(codes).toEqual(Array(CLIENTS).fill(451));
    expect((await h.pending()).length).toBe(before);
    // The failure was the disk's, not the session's: the same clients succeed once it is back.
    for (const c of clients) {
      expect((await c.cmd('MAIL FROM:<a@elsewhere.test>'))?.code).toBe(250);
      expect((await c.cmd(`RCPT TO:<${h.users.alice.address}>`))?.code).toBe(250);
      expect((await c.cmd('DATA'))?.code).toBe(354);
      c.write('Subject: again\r\n\r\nbody\r\n');
    }
    expect(await finishAll(clients)).toEqual(Array(CLIENTS).fill(250));
    expect((await h.pending()).length).toBe(before + CLIENTS);
  });
});
