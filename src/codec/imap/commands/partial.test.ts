import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partialSlice } from './partial.js';

const five = [10, 20, 30, 40, 50];

describe('partialSlice', () => {
  it('picks positions from the start or, negative, from the end', () => {
    expect(partialSlice(five, { first: 2, last: 4 })).toEqual([20, 30, 40]);
    expect(partialSlice(five, { first: 1, last: 6 })).toEqual(five);
    expect(partialSlice(five, { first: 6, last: 6 })).toEqual([]);
    expect(partialSlice(five, { first: -1, last: -2 })).toEqual([40, 50]);
    expect(partialSlice(five, { first: -2, last: -9 })).toEqual([10, 20, 30, 40]);
    expect(partialSlice(five, { first: -6, last: -9 })).toEqual([]);
  });

  it('matches picking each position by hand', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), fc.integer({ min: 1, max: 25 }), fc.integer({ min: 0, max: 25 }), fc.boolean(), (items, a, len, neg) => {
        const b = a + len;
        const positions = Array.from({ length: len + 1 }, (_, i) => a + i);
        const want = neg
          ? positions.map((p) => items.length - p).filter((i) => i >= 0).reverse().map((i) => items[i])
          : positions.filter((p) => p <= items.length).map((p) => items[p - 1]);
        expect(partialSlice(items, neg ? { first: -a, last: -b } : { first: a, last: b })).toEqual(want);
      }),
    );
  });
});
