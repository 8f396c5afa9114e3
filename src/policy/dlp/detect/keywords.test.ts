import { describe, expect, it } from 'vitest';
import { keywordScanner } from './keywords.js';

const find = (terms: string[], text: string, more: { caseSensitive?: boolean; near?: { terms: string[]; words: number } } = {}) =>
  keywordScanner({ terms, caseSensitive: more.caseSensitive ?? false, near: more.near })(text).map((h) => text.slice(h.index, h.index + h.length));

describe('keywords', () => {
  it('matches whole words, case-insensitively', () => {
    expect(find(['confidential'], 'CONFIDENTIAL: see the Confidential annex, not confidentiality.')).toEqual([
      'CONFIDENTIAL',
      'Confidential',
    ]);
  });

  it('matches phrases across any separators and line breaks', () => {
    expect(find(['legal advice', 'attorney-client'], 'This is legal\n  advice under attorney client privilege')).toEqual([
      'legal\n  advice',
      'attorney client',
    ]);
  });

  it('respects case_sensitive', () => {
    expect(find(['NDA'], 'nda NDA Nda', { caseSensitive: true })).toEqual(['NDA']);
  });

  it('finds non-Latin words on Unicode boundaries', () => {
    expect(find(['vertraulich', 'секретно', '機密'], 'Streng vertraulich! Это секретно. 機密 文書; unvertraulich')).toEqual([
      'vertraulich',
      'секретно',
      '機密',
    ]);
  });

  it('does not match inside words', () => {
    expect(find(['secret'], 'secretary secrets secreted')).toEqual([]);
  });

  describe('near', () => {
    const near = { terms: ['attorney-client', 'legal advice'], words: 3 };
    it('needs a near term within the distance, before or after', () => {
      expect(find(['privileged'], 'privileged and attorney-client', { near })).toEqual(['privileged']);
      expect(find(['privileged'], 'attorney-client one two three privileged', { near })).toEqual(['privileged']);
      expect(find(['privileged'], 'privileged one two three legal advice', { near })).toEqual(['privileged']);
    });

    it('ignores a term whose near term is too far or absent', () => {
      expect(find(['privileged'], 'privileged one two three four legal advice', { near })).toEqual([]);
      expect(find(['privileged'], 'attorney-client one two three four privileged', { near })).toEqual([]);
      expect(find(['privileged'], 'privileged information only', { near })).toEqual([]);
    });

    it('is high with near, medium without', () => {
      const withNear = keywordScanner({ terms: ['privileged'], caseSensitive: false, near })('privileged legal advice');
      const plain = keywordScanner({ terms: ['privileged'], caseSensitive: false })('privileged');
      expect([withNear[0]?.confidence, plain[0]?.confidence]).toEqual(['high', 'medium']);
    });

    it('does not count a word as near itself', () => {
      expect(find(['confidential'], 'confidential', { near: { terms: ['confidential'], words: 5 } })).toEqual([]);
      expect(find(['confidential'], 'confidential confidential', { near: { terms: ['confidential'], words: 5 } })).toEqual([
        'confidential',
        'confidential',
      ]);
    });
  });

  it('gives the term as configured as the value, whatever its spelling in the text', () => {
    const scan = keywordScanner({ terms: ['Attorney-Client', 'secret'], caseSensitive: false });
    expect(scan('ATTORNEY CLIENT, attorney-client; Secret').map((h) => h.value)).toEqual(['attorney client', 'attorney client', 'secret']);
    expect(keywordScanner({ terms: ['NDA'], caseSensitive: true })('NDA').map((h) => h.value)).toEqual(['NDA']);
  });

  it('reports offsets into the text', () => {
    const text = 'a b Top Secret c';
    const [hit] = keywordScanner({ terms: ['top secret'], caseSensitive: false })(text);
    expect(hit && text.slice(hit.index, hit.index + hit.length)).toBe('Top Secret');
  });

  it('caps the hits', () => {
    expect(find(['x'], 'x '.repeat(5000))).toHaveLength(1000);
  });
});
