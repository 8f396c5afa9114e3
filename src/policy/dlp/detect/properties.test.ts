/**
 * Property tests for the parsed number formats: every valid number generated
 * from the format's own rules is found (value normalised, position right), a
 * one-digit typo is not, and no input crashes a scanner or yields a hit
 * outside the text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanCards } from './cards.js';
import { IBAN_LENGTHS, scanIban } from './iban.js';
import { BUILTIN_TYPES, compileDetector } from './index.js';
import { scanSsn } from './ssn.js';

const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((a) => a.join(''));

function luhnDigit(partial: string): string {
  for (let d = 0; d < 10; d++) {
    let sum = 0;
    const s = partial + d;
    for (let i = 0; i < s.length; i++) {
      let v = s.charCodeAt(s.length - 1 - i) - 48;
      if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
      sum += v;
    }
    if (sum % 10 === 0) return String(d);
  }
  throw new Error('unreachable');
}

// [issuer prefix, a length it issues]
const ISSUED: [string, number][] = [
  ['4', 16], ['4', 13], ['51', 16], ['2221', 16], ['2720', 16], ['34', 15], ['37', 15], ['6011', 16],
  ['65', 19], ['3528', 16], ['3589', 17], ['36', 14], ['300', 14], ['62', 18],
];
const card = fc
  .constantFrom(...ISSUED)
  .chain(([prefix, len]) => digits(len - prefix.length - 1).map((mid) => prefix + mid))
  .map((partial) => partial + luhnDigit(partial))
  .filter((pan) => !/^(\d)\1*$/.test(pan));

describe('properties', () => {
  it('finds every valid card number, bare or in groups of four', () => {
    fc.assert(
      fc.property(card, fc.constantFrom('', ' ', '-'), (pan, sep) => {
        const shown = sep === '' ? pan : pan.match(/.{1,4}/g)!.join(sep);
        const text = `Card no. ${shown}, thanks`;
        expect(scanCards(text).map((h) => [h.value, text.slice(h.index, h.index + h.length)])).toEqual([[pan, shown]]);
      }),
    );
  });

  it('misses a card number with one digit changed (Luhn catches it)', () => {
    fc.assert(
      fc.property(card, fc.nat(), fc.integer({ min: 1, max: 9 }), (pan, at, delta) => {
        const i = at % pan.length;
        const typo = pan.slice(0, i) + ((Number(pan[i]) + delta) % 10) + pan.slice(i + 1);
        expect(scanCards(`Card no. ${typo}`)).toEqual([]);
      }),
    );
  });

  const iban = fc.constantFrom(...Object.entries(IBAN_LENGTHS)).chain(([cc, len]) =>
    digits(len - 4).map((bban) => {
      let rem = 0;
      for (const ch of `${bban}${cc}00`) rem = /\d/.test(ch) ? (rem * 10 + Number(ch)) % 97 : (rem * 100 + ch.charCodeAt(0) - 55) % 97;
      return `${cc}${String(98 - rem).padStart(2, '0')}${bban}`;
    }),
  );

  it('finds every IBAN with valid check digits, compact or grouped', () => {
    fc.assert(
      fc.property(iban, fc.boolean(), (value, grouped) => {
        const shown = grouped ? value.match(/.{1,4}/g)!.join(' ') : value;
        expect(scanIban(`IBAN: ${shown}.`).map((h) => [h.value, h.confidence])).toEqual([[value, 'high']]);
      }),
    );
  });

  it('finds every SSN from the issued ranges', () => {
    const area = fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666);
    const ssn = fc.tuple(area, fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 })).map(([a, g, s]) =>
      [String(a).padStart(3, '0'), String(g).padStart(2, '0'), String(s).padStart(4, '0')].join('-'),
    );
    fc.assert(
      fc.property(ssn.filter((s) => !['078-05-1120', '219-09-9999', '123-45-6789'].includes(s) && !/^(\d)\1\1-\1\1-\1{4}$/.test(s)), (s) => {
        expect(scanSsn(`SSN ${s}`).map((h) => h.value)).toEqual([s.replaceAll('-', '')]);
      }),
    );
  });

  it('never throws and never reports a hit outside the text', () => {
    const detectors = BUILTIN_TYPES.map((type) => compileDetector(type, { type }, []));
    const piece = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      digits(16),
      fc.constantFrom(' ', '-', '\n', 'card ', 'IBAN ', 'SSN ', 'password: ', '-----BEGIN PRIVATE KEY-----', 'eyJ', '.', 'AKIA'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }).map((a) => a.join('')), (text) => {
        for (const d of detectors) {
          for (const h of d.text!(text)) {
            expect(h.index).toBeGreaterThanOrEqual(0);
            expect(h.index + h.length).toBeLessThanOrEqual(text.length);
            expect(h.value.length).toBeGreaterThan(0);
          }
        }
      }),
    );
  });
});
