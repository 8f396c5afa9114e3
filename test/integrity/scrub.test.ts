/**
 * Fault injection on the store, in process: random bits flipped in the
 * on-disk blob files (seeded, reproducible with INTEGRITY_SEED), then read
 * back through the store API or found by the scrubber.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../../src/store/index.js';
import { scrub } from '../../src/integrity/index.js';
import { blobFile, blockCount, blockDataBits, fillStore, flipBit, openTestStore, seededRng, testSeed, type StoredMessage } from './helpers.js';

const seed = testSeed();

describe(`scrub and read-time repair (seed ${seed})`, () => {
  let store: Store;
  let dir: string;
  let msgs: StoredMessage[];
  const rng = seededRng(seed);

  beforeEach(async () => {
    ({ store, dir } = await openTestStore());
    msgs = await fillStore(store, 50, rng);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('removes the temp files failed writes left in the blob folder, but not a fresh one', async () => {
    const stale = path.join(path.dirname(blobFile(dir, msgs[0]!.blobId)), '.tmp-0123abcd');
    const fresh = path.join(path.dirname(blobFile(dir, msgs[1]!.blobId)), '.tmp-4567cdef');
    writeFileSync(stale, Buffer.alloc(4000));
    writeFileSync(fresh, Buffer.alloc(10));
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(stale, past, past);
    const r = await scrub(store);
    expect(r.staleTemp).toEqual({ files: 1, bytes: 4000 });
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(r.orphans).toEqual([]);
    expect(r.clean).toBe(true);
  });

  it('detects and repairs every single flipped bit, on the next read or the next scrub', async () => {
    const victims = rng.pick(msgs.length, 30).map((i) => msgs[i]!);
    const pristine = new Map(victims.map((m) => [m.blobId, readFileSync(blobFile(dir, m.blobId))]));
    for (const m of victims) {
      const file = blobFile(dir, m.blobId);
      flipBit(file, rng.int(statSync(file).size * 8)); // anywhere: header, data or check bytes
    }
    const [read, scrubbed] = [victims.slice(0, 15), victims.slice(15)];
    for (const m of read) expect(Buffer.from(await store.blobs.get(m.blobId)).equals(m.data)).toBe(true);

    const r = await scrub(store);
    expect(r.clean).toBe(true);
    expect(r.corrected).toBe(scrubbed.length);
    expect(r.correctedBits).toBe(scrubbed.length);
    expect(r.blobs).toBe(msgs.length);
    expect(r.uncorrectable).toEqual([]);

    // Repairs were written back: the files are as they were before the flips.
    for (const m of victims) expect(readFileSync(blobFile(dir, m.blobId)).equals(pristine.get(m.blobId)!)).toBe(true);
    for (const m of msgs) expect(Buffer.from(await store.blobs.get(m.blobId)).equals(m.data)).toBe(true);
    await settle();
    expect(await store.meta.events.count('integrity.corrected')).toBe(victims.length);
    const again = await scrub(store);
    expect(again.corrected).toBe(0);
  });

  it('reports two flips in one block as uncorrectable, never returns the message, and marks it damaged', async () => {
    const victims = rng.pick(msgs.length, 5).map((i) => msgs[i]!);
    for (const m of victims) {
      const { first, count } = blockDataBits(m.data.length, rng.int(blockCount(m.data.length)));
      const [a, b] = rng.pick(count, 2);
      flipBit(blobFile(dir, m.blobId), first + a!);
      flipBit(blobFile(dir, m.blobId), first + b!);
    }
    for (const m of victims) await expect(store.blobs.get(m.blobId)).rejects.toMatchObject({ code: 'INTEGRITY' });

    const r = await scrub(store);
    expect(r.clean).toBe(false);
    expect(r.uncorrectable.map((u) => u.id).sort()).toEqual(victims.map((m) => m.blobId).sort());
    expect(r.damagedMessages).toBe(victims.length);
    const damaged = await store.meta.integrity.damagedMessages();
    expect(damaged.map((d) => d.uid ?? -1).sort((x, y) => x - y)).toEqual(victims.map((m) => m.uid).sort((x, y) => x - y));
    // Still refused after the scrub, and the others are untouched.
    for (const m of victims) await expect(store.blobs.get(m.blobId)).rejects.toMatchObject({ code: 'INTEGRITY' });
    for (const m of msgs.filter((x) => !victims.includes(x))) expect(Buffer.from(await store.blobs.get(m.blobId)).equals(m.data)).toBe(true);
    await settle();
    expect(await store.meta.events.count('integrity.uncorrectable')).toBeGreaterThanOrEqual(victims.length);
    const [done] = await store.meta.events.list('integrity.scrub_completed', 1);
    expect(done?.data).toMatchObject({ uncorrectable: victims.length, clean: false, blobs: msgs.length });
  });

  it('reports a truncated and a missing blob, and an orphan without deleting it', async () => {
    const [cut, gone] = [msgs[3]!, msgs[7]!];
    truncateSync(blobFile(dir, cut.blobId), Math.floor(statSync(blobFile(dir, cut.blobId)).size / 2));
    rmSync(blobFile(dir, gone.blobId));
    const orphan = await store.blobs.put(Buffer.from('stored, never referenced'));

    const r = await scrub(store);
    expect(r.clean).toBe(false);
    expect(r.uncorrectable.map((u) => u.id)).toEqual([cut.blobId]);
    expect(r.uncorrectable[0]!.detail).toMatch(/truncated/);
    expect(r.missing).toEqual([gone.blobId]);
    expect(r.orphans).toEqual([orphan.id]);
    expect(await store.blobs.has(orphan.id)).toBe(true);
    expect((await store.meta.integrity.listDamaged()).map((d) => d.blobId).sort()).toEqual([cut.blobId, gone.blobId].sort());
    await settle();
    expect(await store.meta.events.count('integrity.missing')).toBeGreaterThanOrEqual(1);
    expect(await store.meta.events.count('integrity.orphans')).toBe(1);
  });

  it('clears the damage mark once the blob is sound again', async () => {
    const m = msgs[0]!;
    writeFileSync(blobFile(dir, m.blobId), Buffer.from('garbage'));
    expect((await scrub(store)).clean).toBe(false);
    expect(await store.meta.integrity.isDamaged(m.blobId)).toBe(true);
    await store.blobs.put(m.data); // the same bytes arrive again (a resend, a restore)
    const r = await scrub(store);
    expect(r.clean).toBe(true);
    expect(await store.meta.integrity.isDamaged(m.blobId)).toBe(false);
  });

  it('keeps to the rate limit, in simulated time', async () => {
    let now = 0;
    let slept = 0;
    const clock = { now: () => now };
    const sleep = async (ms: number) => {
      slept += ms;
      now += ms;
    };
    const rateMBps = 0.1; // 100 kB per simulated second
    const r = await scrub(store, { rateMBps, clock, sleep });
    const burst = rateMBps * 1e6; // one second of tokens to start with
    const expected = ((r.bytes - burst) / (rateMBps * 1e6)) * 1000;
    expect(r.bytes).toBeGreaterThan(burst);
    expect(slept).toBeGreaterThanOrEqual(expected - 1);
    expect(slept).toBeLessThanOrEqual(expected + msgs.length); // at most 1 ms of rounding per blob
    expect(r.durationMs).toBe(slept);
  });

  it('stops between blobs when aborted, without recording a completed scrub', async () => {
    const ac = new AbortController();
    const r = await scrub(store, { signal: ac.signal, concurrency: 1, onProgress: (p) => p.blobs === 10 && ac.abort() });
    expect(r.aborted).toBe(true);
    expect(r.blobs).toBe(10);
    expect(await store.meta.events.count('integrity.scrub_completed')).toBe(0);
  });
});

/** Integrity events are recorded by a listener without awaiting; let those inserts run. */
async function settle(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}
