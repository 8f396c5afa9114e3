/**
 * International Bank Account Numbers (ISO 13616): country code, two check
 * digits and the national part, bare or in groups of four separated by single
 * spaces, of the length registered for the country, with mod-97 = 1. Medium
 * alone; high with "IBAN" within 50 characters. A hit's value is the IBAN
 * without spaces.
 */
import type { Hit } from '../types.js';
import { HitList, keywordNear } from './shared.js';

/** IBAN lengths per country (SWIFT IBAN registry): every SEPA country and the other registered ones. */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22,
  GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27,
  MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33,
  SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30,
};

// Each repetition takes exactly four characters, so the only choice left is the short tail: linear.
const CANDIDATE = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g;
const IBAN_WORD = /\biban\b/i;

/** mod 97 of the rearranged IBAN (letters as 10..35) equals 1. */
export function ibanChecksum(compact: string): boolean {
  const s = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

export function isIban(compact: string): boolean {
  const len = IBAN_LENGTHS[compact.slice(0, 2)];
  return len !== undefined && compact.length === len && ibanChecksum(compact);
}

export function scanIban(text: string): Hit[] {
  const hits = new HitList();
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m && !hits.full; m = CANDIDATE.exec(text)) {
    const want = IBAN_LENGTHS[m[0].slice(0, 2)];
    if (want === undefined) continue;
    // The candidate may run on into a following group ("… 7034 BANK"): cut it at the country's length, on a group edge.
    let end = 0;
    let n = 0;
    while (end < m[0].length && n < want) {
      if (m[0][end] !== ' ') n++;
      end++;
    }
    if (n < want || (end < m[0].length && m[0][end] !== ' ')) continue;
    const value = m[0].slice(0, end);
    if (!isIban(value.replaceAll(' ', ''))) continue;
    if (end < m[0].length) CANDIDATE.lastIndex = m.index + end;
    hits.add(value.replaceAll(' ', ''), m.index, end, keywordNear(text, m.index, end, IBAN_WORD) ? 'high' : 'medium');
  }
  return hits.hits;
}
