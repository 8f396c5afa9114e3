import { describe, expect, it } from 'vitest';
import { IBAN_LENGTHS, isIban, scanIban } from './iban.js';

// What each hit covers in the text (its value is the IBAN without spaces).
const values = (text: string): string[] => scanIban(text).map((h) => text.slice(h.index, h.index + h.length));

describe('IBAN', () => {
  it.each([
    ['DE89 3704 0044 0532 0130 00'],
    ['DE89370400440532013000'],
    ['GB82 WEST 1234 5698 7654 32'],
    ['FR14 2004 1010 0505 0001 3M02 606'],
    ['NL91 ABNA 0417 1643 00'],
    ['BE68 5390 0754 7034'],
    ['CH93 0076 2011 6238 5295 7'],
    ['NO93 8601 1117 947'],
    ['IT60 X054 2811 1010 0000 0123 456'],
    ['MT84 MALT 0110 0001 2345 MTLC AST0 01S'],
  ])('finds %s', (iban) => {
    expect(values(`Please pay to ${iban}. Thanks`)).toEqual([iban]);
  });

  it('stops at the country length when a word follows', () => {
    expect(values('BE68 5390 0754 7034 BANK transfer')).toEqual(['BE68 5390 0754 7034']);
  });

  it.each([
    ['a wrong check digit', 'DE88 3704 0044 0532 0130 00'],
    ['a changed digit', 'DE89 3704 0044 0532 0130 01'],
    ['a length wrong for the country', 'DE89 3704 0044 0532 0130 0'],
    ['a country without IBAN', 'US12 3456 7890 1234 5678'],
    ['lower case in a word', 'de89370400440532013000'],
    ['a longer alphanumeric run', 'XDE89370400440532013000'],
  ])('ignores %s', (_name, text) => {
    expect(values(text)).toEqual([]);
  });

  it('gives the IBAN without spaces as the value', () => {
    expect(scanIban('GB82 WEST 1234 5698 7654 32').map((h) => h.value)).toEqual(['GB82WEST12345698765432']);
  });

  it('is high with "IBAN" nearby', () => {
    expect(scanIban('IBAN: DE89 3704 0044 0532 0130 00')[0]?.confidence).toBe('high');
    expect(scanIban('account DE89 3704 0044 0532 0130 00')[0]?.confidence).toBe('medium');
  });

  it('knows every SEPA country', () => {
    const sepa = 'AD AT BE BG CH CY CZ DE DK EE ES FI FR GB GI GR HR HU IE IS IT LI LT LU LV MC MT NL NO PL PT RO SE SI SK SM VA';
    for (const cc of sepa.split(' ')) expect(IBAN_LENGTHS[cc], cc).toBeGreaterThanOrEqual(15);
    expect(isIban('GB82WEST12345698765432')).toBe(true);
  });
});
