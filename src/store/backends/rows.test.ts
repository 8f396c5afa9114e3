import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inUidOrder } from './rows.js';

describe('inUidOrder', () => {
  it('returns an ascending index as it is', () => {
    const index = { uids: [1, 2, 7], flags: ['', '\\Seen', '$a'], modseqs: [4, 5, 6] };
    expect(inUidOrder(index)).toBe(index);
  });

  it('sorts the columns together by UID, whatever order they came in', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { maxLength: 60 }), (uids: number[]) => {
        const index = { uids, flags: uids.map((u) => `k${u}`), modseqs: uids.map((u) => u * 3) };
        const out = inUidOrder(index);
        const sorted = [...uids].sort((a, b) => a - b);
        expect(out.uids).toEqual(sorted);
        expect(out.flags).toEqual(sorted.map((u) => `k${u}`));
        expect(out.modseqs).toEqual(sorted.map((u) => u * 3));
      }),
    );
  });
});
