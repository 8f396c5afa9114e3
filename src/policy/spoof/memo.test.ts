import { describe, expect, it } from 'vitest';
import { memoized } from './memo.js';
import { words } from './phrases.js';

describe('memoized', () => {
  it('computes each input once and returns the same result', () => {
    const calls: string[] = [];
    const upper = memoized((s: string) => (calls.push(s), s.toUpperCase()));
    expect([upper('a'), upper('b'), upper('a')]).toEqual(['A', 'B', 'A']);
    expect(calls).toEqual(['a', 'b']);
  });

  it('remembers undefined results too', () => {
    let n = 0;
    const none = memoized(() => (n++, undefined));
    none('x');
    none('x');
    expect(n).toBe(1);
  });

  it('starts over when full instead of growing', () => {
    const calls: string[] = [];
    const id = memoized((s: string) => (calls.push(s), s), 2);
    id('a');
    id('b');
    id('c'); // full: forgets a and b
    id('a');
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
  });

  it('does not remember a throw', () => {
    let n = 0;
    const f = memoized((s: string) => {
      n++;
      if (n === 1) throw new Error('first');
      return s;
    });
    expect(() => f('x')).toThrow('first');
    expect(f('x')).toBe('x');
  });
});

describe('words: the ASCII path cuts text as the Unicode path does', () => {
  // The general path, as it is written for non-ASCII text.
  const general = (t: string) => t.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

  it('agrees on every ASCII character, controls and punctuation included', () => {
    const all = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('');
    const texts = [all, `${all} Wire TRANSFER today_ASAP 42x\r\n\tIBAN:DE00`, 'URGENT: buy 3 Gift-Cards!!', ''];
    for (const t of texts) expect(words(t)).toEqual(general(t));
  });

  it('still folds diacritics when the text is not ASCII', () => {
    expect(words('Dringende Überweisung ÄNDERN')).toEqual(['dringende', 'uberweisung', 'andern']);
  });
});

describe('memoized keys', () => {
  it('computes strings longer than a domain every time', () => {
    let n = 0;
    const f = memoized((s: string) => (n++, s.length));
    const long = 'x'.repeat(300);
    f(long);
    f(long);
    f('x'.repeat(255));
    f('x'.repeat(255));
    expect(n).toBe(3);
  });
});
