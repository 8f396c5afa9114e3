import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contains } from './search.js';
import { includesLinear } from './substring.js';

describe('includesLinear', () => {
  it('agrees with String.prototype.includes, long needles included', () => {
    const word = fc.array(fc.constantFrom('a', 'b', 'ä', '\u{1F600}'), { maxLength: 300 }).map((a) => a.join(''));
    fc.assert(fc.property(word, word, (text, needle) => {
      expect(includesLinear(text, needle)).toBe(text.includes(needle));
      // Needles cut from the text must be found.
      const cut = text.slice(text.length >> 2, text.length >> 1);
      expect(includesLinear(text, cut)).toBe(true);
    }), { numRuns: 2000 });
    const big = 'x'.repeat(100) + 'needle'.repeat(20) + 'y';
    expect(includesLinear(big, 'needle'.repeat(20))).toBe(true);
    expect(includesLinear(big, 'needle'.repeat(21))).toBe(false);
  });

  it('lets SEARCH text matching search 4 MB built against the native search for a 16,000-character needle in linear time', { timeout: 20_000 }, () => {
    const m = 16_000;
    const text = ('a'.repeat(m - 1) + 'b').repeat(Math.floor((4 * 1024 * 1024) / m));
    expect(contains(text, 'A'.repeat(m))).toBe(false);
    expect(contains(text + 'a'.repeat(m), 'a'.repeat(m))).toBe(true);
  });
});
