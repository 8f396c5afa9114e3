import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Maildrop } from './maildrop.js';

const msgs = [
  { uid: 7, blobId: 'c', size: 30 },
  { uid: 2, blobId: 'a', size: 10 },
  { uid: 5, blobId: 'b', size: 20 },
];

describe('Maildrop', () => {
  it('numbers messages 1..n in UID order and totals their sizes', () => {
    const d = new Maildrop(1, 99, msgs);
    expect(d.listing().map(([n, m]) => [n, m.uid])).toEqual([
      [1, 2],
      [2, 5],
      [3, 7],
    ]);
    expect(d.stat()).toEqual({ count: 3, size: 60 });
    expect(d.uniqueId(d.get(3)!)).toBe('99.7');
    expect(d.get(0)).toBeNull();
    expect(d.get(4)).toBeNull();
    expect(d.get(1.5)).toBeNull();
  });

  it('hides marked messages, keeps the numbers of the others, and RSET brings them back', () => {
    const d = new Maildrop(1, 99, msgs);
    expect(d.delete(2)).toBe(true);
    expect(d.delete(2)).toBe(false);
    expect(d.delete(9)).toBe(false);
    expect(d.get(2)).toBeNull();
    expect(d.get(3)!.uid).toBe(7);
    expect(d.stat()).toEqual({ count: 2, size: 40 });
    expect(d.deletedUids()).toEqual([5]);
    d.reset();
    expect(d.stat()).toEqual({ count: 3, size: 60 });
    expect(d.deletedUids()).toEqual([]);
  });

  it('expunges exactly the marked UIDs (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 45 })), (uids, dels) => {
        const d = new Maildrop(1, 1, uids.map((uid) => ({ uid, blobId: String(uid), size: uid })));
        const sorted = [...uids].sort((a, b) => a - b);
        const expected = new Set<number>();
        for (const n of dels) {
          const ok = d.delete(n);
          expect(ok).toBe(n >= 1 && n <= sorted.length && !expected.has(sorted[n - 1]!));
          if (ok) expected.add(sorted[n - 1]!);
        }
        expect(d.deletedUids()).toEqual([...expected].sort((a, b) => a - b));
        expect(d.stat().count).toBe(uids.length - expected.size);
      }),
    );
  });
});
