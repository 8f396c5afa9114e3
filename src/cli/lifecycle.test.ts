import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../metrics/logger.js';
import { openStore, type Store } from '../store/index.js';
import { recordStart, recordStop } from './lifecycle.js';
import { declaredWindows as maintenanceWindows } from '../store/maintenance.js';

let dir = '';
let store: Store | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
  rmSync(dir, { recursive: true, force: true });
});

describe('server lifecycle events', () => {
  it('records an unclean stop when the last start of this node has no stop, and only then', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'postern-life-'));
    store = await openStore({ backend: 'sqlite', dataDir: dir });
    const ev = store.meta.events;
    let now = 1000;
    const clock = { now: () => now };
    await recordStart(ev, 'mail.a:/d', clock, silentLogger());
    await recordStop(ev, 'mail.a:/d', clock);
    now = 2000;
    await recordStart(ev, 'mail.a:/d', clock, silentLogger()); // after a clean stop
    expect(await ev.count('server.unclean_stop')).toBe(0);
    // Another node's start without a stop is not this node's outage.
    await recordStart(ev, 'mail.b:/d', clock, silentLogger());
    now = 3000;
    await recordStart(ev, 'mail.a:/d', clock, silentLogger()); // killed: no stop since 2000
    const unclean = await ev.list('server.unclean_stop');
    expect(unclean).toHaveLength(1);
    expect(unclean[0]).toMatchObject({ subject: 'mail.a:/d', data: { startedAt: 2000, detectedAt: 3000 } });
    expect(await ev.count('server.start')).toBe(4);
  });

  it('records downtime from the last heartbeat after a crash, from the stop after a clean stop, planned inside a maintenance window', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'postern-life-'));
    store = await openStore({ backend: 'sqlite', dataDir: dir });
    const ev = store.meta.events;
    let now = 10_000;
    const clock = { now: () => now };
    const node = 'mail.a:/d';
    await recordStart(ev, node, clock, silentLogger());
    await ev.record('server.heartbeat', node, {}, 40_000);
    await ev.record('server.heartbeat', 'mail.b:/d', {}, 65_000); // another node's heartbeat
    now = 100_000; // killed after its heartbeat at 40 s, restarted at 100 s
    await recordStart(ev, node, clock, silentLogger());
    now = 200_000;
    await recordStop(ev, node, clock);
    await ev.record('maintenance.start', 'maintenance', { reason: 'upgrade' }, 210_000);
    now = 230_000;
    await recordStart(ev, node, clock, silentLogger()); // stopped 200 s to 230 s, a window opened at 210 s
    await ev.record('maintenance.end', 'maintenance', {}, 240_000);
    const down = (await ev.list('availability.downtime')).reverse().map((e) => e.data);
    expect(down).toEqual([
      { cause: 'unclean_stop', planned: false, from: 40_000, to: 100_000, ms: 60_000 },
      { cause: 'stopped', planned: true, from: 200_000, to: 230_000, ms: 30_000 },
    ]);
    expect(await maintenanceWindows(ev)).toEqual([{ from: 210_000, to: 240_000, reason: 'upgrade', source: 'declared' }]);
  });

  it('counts downtime inside a window scheduled in the config as planned', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'postern-life-'));
    store = await openStore({ backend: 'sqlite', dataDir: dir });
    const ev = store.meta.events;
    let now = Date.parse('2026-12-06T01:50:00Z');
    const clock = { now: () => now };
    const schedule = { fixed: [], weekly: [{ day: 0, minute: 120, minutes: 60, reason: 'patching' }] }; // Sundays 02:00-03:00 UTC
    await recordStart(ev, 'n', clock, silentLogger(), schedule);
    await recordStop(ev, 'n', clock);
    now = Date.parse('2026-12-06T02:20:00Z');
    await recordStart(ev, 'n', clock, silentLogger(), schedule); // down 01:50-02:20: overlaps the window
    now = Date.parse('2026-12-06T04:00:00Z');
    await recordStop(ev, 'n', clock);
    now = Date.parse('2026-12-06T04:10:00Z');
    await recordStart(ev, 'n', clock, silentLogger(), schedule); // down 04:00-04:10: outside it
    const planned = (await ev.list('availability.downtime')).reverse().map((e) => e.data.planned);
    expect(planned).toEqual([true, false]);
  });
});
