import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAscii, normalizeAddress, normalizeDomain, parseAddress } from './address.js';

describe('parseAddress', () => {
  it('takes ordinary and quoted local parts', () => {
    expect(normalizeAddress('Jane.Doe@Example.ORG')).toBe('jane.doe@example.org');
    expect(parseAddress('"john smith"@example.org')).toEqual({ local: '"john smith"', domain: 'example.org' });
    expect(parseAddress('a@mail-1.example.org')).not.toBeNull();
  });

  it('refuses control characters, also inside quotes', () => {
    for (const c of ['\u0000', '\u001b', '\u007f', '\r', '\n', '\t']) {
      expect(parseAddress(`"a${c}b"@example.org`), JSON.stringify(c)).toBeNull();
      expect(parseAddress(`a${c}b@example.org`), JSON.stringify(c)).toBeNull();
    }
  });

  it('refuses domain labels that start or end with a hyphen, or are empty', () => {
    for (const d of ['-example.org', 'example-.org', 'a.-b.org', 'a..org', '.a.org', 'a.org.', 'ex_ample.org']) {
      expect(parseAddress(`x@${d}`), d).toBeNull();
    }
  });
});

describe('internationalised addresses (RFC 6531, 6532)', () => {
  it('keeps UTF-8 local parts in NFC and lower case, and domains as lower-case A-labels', () => {
    expect(normalizeAddress('Jösé@Bücher.Example')).toBe('jösé@xn--bcher-kva.example');
    // Decomposed (NFD) input is the same address.
    expect(normalizeAddress('JO\u0308SE\u0301@example.test')).toBe('jösé@example.test');
    expect(normalizeAddress('a@XN--BCHER-KVA.example')).toBe('a@xn--bcher-kva.example');
    expect(normalizeAddress('用户@例え.テスト')).toBe('用户@xn--r8jz45g.xn--zckzah');
    expect(normalizeDomain('Bücher.Example.')).toBe('xn--bcher-kva.example');
  });

  it('refuses invisible and control characters, lone surrogates, bad A-labels and unquoted Unicode spaces', () => {
    for (const a of ['a\u200b@x.test', 'a\u202e@x.test', '\u0085a@x.test', '\ud800@x.test', 'a@xn--zz.example', 'a\u00a0b@x.test', 'a\u3000b@x.test', 'a@b\u200d.test']) {
      expect(normalizeAddress(a), JSON.stringify(a)).toBeNull();
    }
  });

  it('bounds the whole address at 254 octets, not characters', () => {
    expect(normalizeAddress(`${'ö'.repeat(123)}@x.test`)).not.toBeNull(); // 246 + 1 + 6 octets
    expect(normalizeAddress(`${'ö'.repeat(124)}@x.test`)).toBeNull();
  });

  it('property: normalising is idempotent, never throws, and an ASCII result has an ASCII-only domain', () => {
    const local = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '.', '-', 'ö', 'É', 'ß', '用', '\u0301', '\u200b', ' ', '"', '@'), minLength: 1, maxLength: 20 });
    const domain = fc.constantFrom('example.test', 'BÜCHER.example', 'xn--bcher-kva.example', '例え.テスト', 'a..b', '-x.test', 'xn--zz.test');
    fc.assert(
      fc.property(local, domain, (l, d) => {
        const n = normalizeAddress(`${l}@${d}`);
        if (n === null) return;
        expect(normalizeAddress(n)).toBe(n);
        expect(n).toBe(n.normalize('NFC'));
        expect(isAscii(n.slice(n.lastIndexOf('@') + 1))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
