import { describe, expect, it } from 'vitest';
import { containment, fingerprintOf, fingerprintScanner, fnv1a } from './fingerprint.js';
import type { TextSegment } from '../types.js';

// A document of about 300 distinct-ish words, made from a fixed vocabulary walk (no randomness).
const VOCAB =
  'merger acquisition target valuation synergy board approval shareholder closing escrow diligence counsel regulator filing price share premium cash stock debt bridge facility integration retention plan timeline announcement'.split(
    ' ',
  );
function document(words: number, seed: number): string {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < words; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(VOCAB[x % VOCAB.length]! + (i % 7 === 0 ? ',' : '') + (i % 23 === 22 ? '.\n' : ''));
  }
  return out.join(' ');
}

const seg = (text: string): TextSegment => ({ kind: 'body', source: 'body:1', text });
const DOC = document(300, 7);

describe('fingerprints', () => {
  const fp = fingerprintOf('merger-plan', DOC);

  it('stores sorted distinct hashes and the word count', () => {
    expect(fp.words).toBe(300);
    expect(fp.hashes.length).toBeGreaterThan(50);
    expect(fp.hashes.length).toBeLessThan(296);
    for (let i = 1; i < fp.hashes.length; i++) expect(fp.hashes[i]!).toBeGreaterThan(fp.hashes[i - 1]!);
  });

  it('catches the document re-typed with other whitespace, line breaks, case and punctuation', () => {
    const retyped = DOC.toUpperCase().replace(/[,.]/g, ';').replace(/ /g, (_, i: number) => (i % 5 === 0 ? '\r\n' : '  '));
    expect(containment([fp], [seg(retyped)])[0]).toBe(1);
    expect(fingerprintScanner([fp], 0.9)([seg(retyped)])).toEqual([
      { value: 'merger-plan', index: 0, length: 0, confidence: 'high' },
    ]);
  });

  it('catches 60 % of it at threshold 0.5, in the middle of other text', () => {
    const words = DOC.split(' ');
    const part = words.slice(0, Math.round(words.length * 0.6)).join(' ');
    const share = containment([fp], [seg(`Dear all, please find below.\n\n${part}\n\nBest regards`)])[0]!;
    expect(share).toBeGreaterThan(0.5);
    expect(share).toBeLessThan(0.7);
    expect(fingerprintScanner([fp], 0.5)([seg(part)]).map((h) => h.value)).toEqual(['merger-plan']);
  });

  it('does not catch an unrelated text, nor a short quote', () => {
    const other = document(300, 99);
    expect(fingerprintScanner([fp], 0.5)([seg(other)])).toEqual([]);
    expect(fingerprintScanner([fp], 0.5)([seg(DOC.split(' ').slice(0, 40).join(' '))])).toEqual([]);
  });

  it('is invariant under NFKC forms', () => {
    const a = fingerprintOf('a', 'ﬁnal ﬁgures for the ①st quarter');
    const b = fingerprintOf('b', 'final figures for the 1st quarter');
    expect(Array.from(a.hashes)).toEqual(Array.from(b.hashes));
  });

  it('handles tiny and empty documents', () => {
    expect(fingerprintOf('t', 'two words').hashes).toHaveLength(1);
    expect(fingerprintOf('e', ' ,. ').hashes).toHaveLength(0);
    expect(fingerprintScanner([fingerprintOf('e', '')], 0.5)([seg('anything')])).toEqual([]);
  });

  it('hashes with FNV-1a', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('xay', 1, 2)).toBe(0xe40c292c);
  });
});
