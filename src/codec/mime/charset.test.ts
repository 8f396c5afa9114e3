import { describe, expect, it } from 'vitest';
import { decodeCharset, isKnownCharset } from './charset.js';

describe('decodeCharset', () => {
  it.each([
    ['windows-1252', [0x93, 0x80, 0x35, 0x94, 0x96], '“€5”–'],
    ['iso-8859-1', [0x63, 0x61, 0x66, 0xe9, 0x80], 'café€'],
    ['us-ascii', [0x41, 0x99], 'A™'],
    ['cp1252', [0x8a, 0x81], 'Š\x81'],
    ['iso-8859-15', [0xa4], '€'],
    ['utf-8', [0xe2, 0x82, 0xac], '€'],
  ])('%s', (charset, bytes, text) => {
    expect(decodeCharset(Uint8Array.from(bytes), charset)).toBe(text);
  });

  it('reads an unknown charset as latin1 and never throws', () => {
    expect(isKnownCharset('x-no-such')).toBe(false);
    expect(decodeCharset(Uint8Array.from([0x41, 0xe9]), 'x-no-such')).toBe('Aé');
  });
});
