import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../metrics/logger.js';
import { openStore, type Store } from '../store/index.js';
import { recordStart, recordStop } from './lifecycle.js';

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
});
