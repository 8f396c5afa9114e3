import { describe, expect, it } from 'vitest';
import { mapBounded, SharedReads } from './bounded.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('mapBounded', () => {
  it('keeps the order of the items and never runs more than the count at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3, 0, 6], { count: 3, bytes: Infinity }, () => 1, async (n) => {
      running++;
      peak = Math.max(peak, running);
      for (let i = 0; i < n; i++) await tick();
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(peak).toBe(3);
  });

  it('holds at most the byte budget, but always runs at least one item however large', async () => {
    let held = 0;
    let peak = 0;
    const sizes = [40, 40, 40, 200, 10];
    const out = await mapBounded(sizes, { count: 8, bytes: 100 }, (n) => n, async (n) => {
      held += n;
      peak = Math.max(peak, held);
      await tick();
      held -= n;
      return n;
    });
    expect(out).toEqual(sizes);
    expect(peak).toBe(200);
  });

  it('settles at once with nothing to do, and rejects when a call throws', async () => {
    expect(await mapBounded([], { count: 2, bytes: 1 }, () => 1, async () => 1)).toEqual([]);
    await expect(mapBounded([1, 2], { count: 2, bytes: 10 }, () => 1, async (n) => {
      if (n === 2) throw new Error('boom');
      return n;
    })).rejects.toThrow('boom');
  });
});

describe('SharedReads', () => {
  it('reads a blob once for all its announced uses, and again after the last one took it', async () => {
    const reads: string[] = [];
    const shared = new SharedReads(async (id) => (reads.push(id), Buffer.from(id)));
    shared.want('a');
    shared.want('a');
    shared.want('b');
    const got = await Promise.all([shared.take('a'), shared.take('b'), shared.take('a')]);
    expect(got.map((b) => Buffer.from(b).toString())).toEqual(['a', 'b', 'a']);
    expect(reads).toEqual(['a', 'b']);
    await shared.take('a');
    expect(reads).toEqual(['a', 'b', 'a']);
  });

  it('does not keep a failed read: the next use reads again', async () => {
    let n = 0;
    const shared = new SharedReads(async () => {
      if (n++ === 0) throw new Error('disk');
      return Buffer.from('ok');
    });
    shared.want('x');
    shared.want('x');
    await expect(shared.take('x')).rejects.toThrow('disk');
    expect(Buffer.from(await shared.take('x')).toString()).toBe('ok');
    expect(n).toBe(2);
  });
});
