/**
 * Payment-fraud phrases, English and German, as pairs of word groups that
 * must appear close to each other. Text is folded (lower case, diacritics
 * dropped) and cut into words with one linear regex; matching compares
 * word sequences, so no pattern backtracks.
 */

export type PhraseCategory = 'payment-change' | 'urgent-transfer' | 'gift-cards';

interface Rule {
  readonly category: PhraseCategory;
  readonly a: readonly string[];
  readonly b: readonly string[];
  /** Most words between a word of `a` and one of `b` (either order). */
  readonly window: number;
}

// Folded forms: "ü" → "u", so "überweisung" is written "uberweisung".
const RULES: readonly Rule[] = [
  {
    category: 'payment-change',
    a: ['change', 'changed', 'changes', 'update', 'updated', 'new', 'different', 'modify', 'modified', 'replace',
      'andern', 'anderung', 'geandert', 'aendern', 'aenderung', 'neue', 'neuen', 'neues', 'aktualisieren', 'aktualisiert', 'umstellung', 'wechsel'],
    // Not "account details" or "Konto" alone: sign-up mail says "your new account details".
    b: ['bank account', 'bank accounts', 'bank details', 'banking details', 'bank information', 'account number', 'payment details',
      'payment information', 'remittance details', 'iban', 'swift code', 'routing number', 'wire instructions',
      'bankverbindung', 'kontoverbindung', 'bankdaten', 'bankkonto', 'kontonummer', 'zahlungsdaten', 'zahlungsinformationen'],
    window: 6,
  },
  {
    // Money leaving now: a wire or bank transfer with any urgency, "today" included.
    category: 'urgent-transfer',
    a: ['urgent', 'urgently', 'immediately', 'asap', 'today', 'confidential', 'right away',
      'dringend', 'sofort', 'eilig', 'umgehend', 'heute', 'vertraulich', 'schnellstmoglich'],
    b: ['wire', 'wire transfer', 'bank transfer', 'transfer the', 'transfer funds', 'uberweisung', 'uberweisen', 'auslandsuberweisung'],
    window: 8,
  },
  {
    // A payment only with strong urgency ("your payment was received today" is a receipt).
    category: 'urgent-transfer',
    a: ['urgent', 'urgently', 'immediately', 'asap', 'dringend', 'sofort', 'eilig', 'umgehend', 'schnellstmoglich'],
    b: ['payment', 'remittance', 'zahlung', 'bezahlung'],
    window: 4,
  },
  {
    category: 'gift-cards',
    a: ['gift card', 'gift cards', 'giftcard', 'giftcards', 'itunes card', 'itunes cards', 'google play card',
      'google play cards', 'steam card', 'amazon card', 'geschenkkarte', 'geschenkkarten', 'gutscheinkarte', 'gutscheinkarten'],
    b: ['buy', 'purchase', 'get', 'codes', 'code', 'scratch', 'pictures', 'photo', 'kaufen', 'besorgen', 'rubbeln', 'foto'],
    window: 12,
  },
];

/** A term list split into words once, with the set of first words to test each position against. */
interface Terms {
  readonly split: readonly (readonly string[])[];
  readonly firsts: ReadonlySet<string>;
}

function compile(terms: readonly string[]): Terms {
  const split = terms.map((t) => t.split(' '));
  return { split, firsts: new Set(split.map((s) => s[0]!)) };
}

const COMPILED: readonly { rule: Rule; a: Terms; b: Terms }[] = RULES.map((rule) => ({ rule, a: compile(rule.a), b: compile(rule.b) }));

const MAX_TEXT = 64 * 1024;
const MAX_WORDS = 12_000;
const MAX_POSITIONS = 500;
// eslint-disable-next-line no-control-regex -- the whole ASCII range, controls included
const ASCII = /^[\x00-\x7f]*$/;

/** Lower-cased, diacritics-free words of `text` (at most MAX_WORDS). */
export function words(text: string): string[] {
  const cut = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  // ASCII text (most mail) has nothing to decompose or drop, and its letters and digits are [a-z0-9] once lower-cased.
  const ascii = ASCII.test(cut);
  const t = ascii ? cut.toLowerCase() : cut.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const out: string[] = [];
  const re = ascii ? /[a-z0-9]+/g : /[\p{L}\p{N}]+/gu;
  for (let m = re.exec(t); m && out.length < MAX_WORDS; m = re.exec(t)) out.push(m[0]);
  return out;
}

/** Word positions where one of `terms` (each one or more words) starts. */
function positions(ws: readonly string[], { split, firsts }: Terms): number[] {
  const out: number[] = [];
  for (let i = 0; i < ws.length && out.length < MAX_POSITIONS; i++) {
    if (!firsts.has(ws[i]!)) continue;
    if (split.some((s) => s.every((w, k) => ws[i + k] === w))) out.push(i);
  }
  return out;
}

/** True when some pair of positions lies within `window` (both lists ascending). */
function near(a: readonly number[], b: readonly number[], window: number): boolean {
  let j = 0;
  for (const p of a) {
    while (j < b.length && b[j]! < p - window) j++;
    if (j < b.length && b[j]! <= p + window) return true;
  }
  return false;
}

/** The categories whose phrases occur in `text`, with the pair that matched. */
export function fraudPhrases(text: string): { category: PhraseCategory; sample: string }[] {
  const ws = words(text);
  const found: { category: PhraseCategory; sample: string }[] = [];
  for (const { rule: r, a: aTerms, b: bTerms } of COMPILED) {
    if (found.some((f) => f.category === r.category)) continue;
    const a = positions(ws, aTerms);
    if (a.length === 0) continue;
    const b = positions(ws, bTerms);
    if (near(a, b, r.window)) found.push({ category: r.category, sample: `${ws[a[0]!]} … ${ws[b[0]!]}` });
  }
  return found;
}
