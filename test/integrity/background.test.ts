import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rmSync } from 'node:fs';
import type { Store } from '../../src/store/index.js';
import { startBackgroundScrub, watchDamage } from '../../src/integrity/index.js';
import { blobFile, blockDataBits, fillStore, flipBit, openTestStore, seededRng, testSeed } from './helpers.js';

const HOUR = 3_600_000;
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The real setTimeout, taken before any test fakes timers. */
const realTimeout = globalThis.setTimeout;

/** Lets real I/O (the scrub's reads, its metadata check in a worker thread) finish while timers are fake: at most 10 s. */
async function until(cond: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 2000; i++) {
    if (await cond()) return true;
    await new Promise((r) => realTimeout(r, 5));
  }
  return false;
}

describe('background scrubber', () => {
  let store: Store;
  let dir: string;
  beforeEach(async () => {
    ({ store, dir } = await openTestStore());
    await fillStore(store, 5, seededRng(testSeed()));
  });
  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs when the last completed scrub is an interval old, then every interval, until stopped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 10 * HOUR });
    await store.meta.events.record('integrity.scrub_completed', 'store', { clean: true }, 10 * HOUR - 10 * 60_000);
    const completed = () => store.meta.events.count('integrity.scrub_completed');
    const s = startBackgroundScrub(store, { intervalHours: 1, rateMBps: 1000, log, startDelayMs: 1000 });
    await until(async () => true);

    await vi.advanceTimersByTimeAsync(49 * 60_000); // 59 minutes after the last one
    expect(await completed()).toBe(1);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(await until(async () => (await completed()) === 2)).toBe(true);
    await vi.advanceTimersByTimeAsync(HOUR + 1000);
    expect(await until(async () => (await completed()) === 3)).toBe(true);

    await s.stop();
    await vi.advanceTimersByTimeAsync(5 * HOUR);
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(await completed()).toBe(3);
  });

  it('does nothing when the interval is 0', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 0 });
    const s = startBackgroundScrub(store, { intervalHours: 0, rateMBps: 20, log });
    await vi.advanceTimersByTimeAsync(1000 * HOUR);
    await s.stop();
    expect(await store.meta.events.count('integrity.scrub_completed')).toBe(0);
  });
});

describe('damage watch', () => {
  it('marks a referenced blob damaged as soon as a read finds it uncorrectable', async () => {
    const { store, dir } = await openTestStore();
    try {
      const [m] = await fillStore(store, 1, seededRng(testSeed()));
      const loose = await store.blobs.put(Buffer.from('not referenced by any message'));
      watchDamage(store);
      const { first } = blockDataBits(m!.data.length, 0);
      flipBit(blobFile(dir, m!.blobId), first + 1);
      flipBit(blobFile(dir, m!.blobId), first + 100);
      rmSync(blobFile(dir, loose.id));
      await expect(store.blobs.get(m!.blobId)).rejects.toMatchObject({ code: 'INTEGRITY' });
      await expect(store.blobs.get(loose.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await until(() => store.meta.integrity.isDamaged(m!.blobId))).toBe(true);
      expect(await store.meta.integrity.isDamaged(loose.id)).toBe(false);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
