import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from './index.js';
import type { RecordedEvent } from '../metrics/feed.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('event feed', () => {
  it('hears every event recorded through the store, and a throwing listener breaks nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'postern-feed-'));
    dirs.push(dir);
    const store = await openStore({ backend: 'sqlite', dataDir: dir });
    const heard: RecordedEvent[] = [];
    store.feed.listen(() => {
      throw new Error('a faulty listener');
    });
    const off = store.feed.listen((e) => heard.push(e));
    await store.meta.events.record('integrity.corrected', 'blob:1', { area: 'data' }, 5);
    off();
    await store.meta.events.record('integrity.corrected', 'blob:2', { area: 'data' }, 6);
    expect(heard).toEqual([{ kind: 'integrity.corrected', subject: 'blob:1', data: { area: 'data' }, at: 5 }]);
    expect(await store.meta.events.count('integrity.corrected')).toBe(2);
    await store.close();
  });

  it('neither writes nor hears a muted kind', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'postern-feed-'));
    dirs.push(dir);
    const store = await openStore({ backend: 'sqlite', dataDir: dir });
    const heard: string[] = [];
    store.feed.listen((e) => heard.push(e.kind));
    store.feed.mute(['smtp.message']);
    await store.meta.events.record('smtp.message', 'Q1', { listener: 'mx', tls: 'none' }, 5);
    await store.meta.events.record('smtp.session', 'S1', { listener: 'mx', tls: 'none' }, 5);
    expect(heard).toEqual(['smtp.session']);
    expect(await store.meta.events.count('smtp.message')).toBe(0);
    await store.close();
  });
});
