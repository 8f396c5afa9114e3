/**
 * Payment card numbers (PAN): 13–19 digits, bare or grouped by one kind of
 * separator (spaces or dashes), that pass the Luhn check and fall in an
 * issuer's range with that issuer's length. Medium alone; high with a card
 * word ("card", "visa", "cvv", "expiry", "Kreditkarte"…) within 50 characters.
 * Numbers that are part of a longer digit run or an alphanumeric code, follow
 * a "+" (phone numbers) or are one digit repeated are not cards. A hit's value is the digits alone, so
 * the same card written two ways counts once.
 */
import type { Hit } from '../types.js';
import { HitList, allSame, digitsOf, isDigit, keywordNear } from './shared.js';

// Digit groups joined by single spaces or dashes; a run is split below where the separator changes.
const RUN = /\d+(?:[ -]\d+)*/g;

const WORDISH = /^[A-Za-z_]$/;

const CARD_WORDS = new RegExp(
  [
    'card|visa|master|amex|american express|discover|diners|jcb|unionpay|maestro|credit|debit',
    'cvv|cvc|\\bcid\\b|expir|\\bexp\\b|valid thru|\\bccn?\\b|\\bpan\\b',
    'karte|carte|tarjeta|cart[ãa]o|carta di credito', // de, fr, es, pt, it
  ].join('|'),
  'i',
);

interface Issuer {
  readonly prefixes: readonly [number, number][]; // inclusive ranges of the leading digits (same digit count)
  readonly lengths: readonly number[];
}

const range = (lo: number, hi = lo): [number, number] => [lo, hi];
const lengths = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

const ISSUERS: readonly Issuer[] = [
  { prefixes: [range(4)], lengths: [13, 16, 19] }, // Visa
  { prefixes: [range(51, 55), range(2221, 2720)], lengths: [16] }, // Mastercard
  { prefixes: [range(34), range(37)], lengths: [15] }, // American Express
  { prefixes: [range(6011), range(644, 649), range(65)], lengths: lengths(16, 19) }, // Discover
  { prefixes: [range(3528, 3589)], lengths: lengths(16, 19) }, // JCB
  { prefixes: [range(300, 305), range(36), range(38, 39)], lengths: lengths(14, 19) }, // Diners Club
  { prefixes: [range(62)], lengths: lengths(16, 19) }, // UnionPay
  { prefixes: [range(50), range(56, 58), range(6304), range(6759), range(676770), range(676774)], lengths: lengths(13, 19) }, // Maestro
];

export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export function issuerMatches(digits: string): boolean {
  for (const issuer of ISSUERS) {
    if (!issuer.lengths.includes(digits.length)) continue;
    for (const [lo, hi] of issuer.prefixes) {
      const n = Number(digits.slice(0, String(lo).length));
      if (n >= lo && n <= hi) return true;
    }
  }
  return false;
}

export function isCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && luhn(digits) && issuerMatches(digits) && !allSame(digits);
}

interface Group {
  readonly at: number;
  readonly len: number;
}

/** One piece of a run: digit groups all joined by the same separator. */
type Piece = readonly Group[];

/** Splits a run into maximal pieces of one separator kind; neighbouring pieces share their boundary group. */
function pieces(run: string, offset: number): Piece[] {
  const groups: { at: number; len: number; sep: string }[] = [];
  const re = /\d+/g;
  for (let m = re.exec(run); m; m = re.exec(run)) {
    groups.push({ at: offset + m.index, len: m[0].length, sep: m.index > 0 ? run[m.index - 1]! : '' });
  }
  const out: Piece[] = [];
  let first = 0;
  for (let i = 2; i <= groups.length; i++) {
    if (i === groups.length || groups[i]!.sep !== groups[first + 1]?.sep) {
      out.push(groups.slice(first, i));
      first = i - 1;
    }
  }
  if (groups.length === 1) out.push(groups);
  return out;
}

export function scanCards(text: string): Hit[] {
  const hits = new HitList();
  RUN.lastIndex = 0;
  for (let m = RUN.exec(text); m && !hits.full; m = RUN.exec(text)) {
    if (m[0].length < 13) continue;
    if (m.index > 0 && text[m.index - 1] === '+') continue; // +49 …: a phone number
    // Inside an alphanumeric code (an IBAN, an invoice id "INV4111…"): not a card on its own.
    if (WORDISH.test(text[m.index - 1] ?? '') || WORDISH.test(text[RUN.lastIndex] ?? '')) continue;
    const prev = m.index > 0 ? text.charCodeAt(m.index - 1) : 0;
    const next = RUN.lastIndex < text.length ? text.charCodeAt(RUN.lastIndex) : 0;
    // 1.4111…, 4111…,5 or 4111….00: part of a decimal or a longer figure.
    if ((prev === 46 || prev === 44) && m.index > 1 && isDigit(text.charCodeAt(m.index - 2))) continue;
    if ((next === 46 || next === 44) && isDigit(text.charCodeAt(RUN.lastIndex + 1))) continue;
    for (const piece of pieces(m[0], m.index)) windows(text, piece, hits);
  }
  return hits.hits;
}

/**
 * Card-shaped windows of whole groups: one bare group of 13–19 digits, or
 * 13–19 digits in groups of 4 (the last may be shorter), or Amex/Diners 4-6-5
 * and 4-6-4. Other groupings ("4111111111111112 555") are not cards: any
 * 19 digits pass Luhn one time in ten.
 */
function windows(text: string, gs: Piece, hits: HitList): void {
  for (let i = 0; i < gs.length && !hits.full; i++) {
    if (gs[i]!.len >= 13 && gs[i]!.len <= 19) {
      consider(text, gs[i]!.at, [gs[i]!], hits);
      continue;
    }
    if (gs[i]!.len !== 4) continue;
    // The longest card-shaped window that is a card: "6202 0690 3338 2498 00" is one 18-digit card, not 16 + 2.
    let total = 0;
    let best = -1;
    for (let j = i; j < gs.length && total < 19; j++) {
      total += gs[j]!.len;
      const amexShape = j === i + 2 && gs[i + 1]!.len === 6;
      const fourShape = gs.slice(i, j).every((g) => g.len === 4);
      if (total >= 13 && total <= 19 && (fourShape || amexShape) && isCardNumber(digitsOf(span(text, gs, i, j)))) best = j;
      if (!fourShape && !amexShape && j > i + 1) break;
    }
    if (best >= 0 && consider(text, gs[i]!.at, gs.slice(i, best + 1), hits)) i = best; // the window's groups are used up
  }
}

function span(text: string, gs: Piece, i: number, j: number): string {
  return text.slice(gs[i]!.at, gs[j]!.at + gs[j]!.len);
}

function consider(text: string, start: number, groups: Piece, hits: HitList): boolean {
  const last = groups[groups.length - 1]!;
  const end = last.at + last.len;
  const prior = hits.hits[hits.hits.length - 1];
  if (prior && prior.index + prior.length > start) return false; // already found through the neighbouring piece
  const digits = digitsOf(text.slice(start, end));
  if (!isCardNumber(digits)) return false;
  hits.add(digits, start, end - start, keywordNear(text, start, end - start, CARD_WORDS) ? 'high' : 'medium');
  return true;
}
