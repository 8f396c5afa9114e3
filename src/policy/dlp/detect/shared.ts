/**
 * What every detector shares: the hit cap, a capped hit list, and the
 * "keyword nearby" test that raises a pattern's confidence. Detectors run over
 * tens of MB in a worker, so everything here is linear in the text and the
 * nearby test only ever looks at a small window around a candidate.
 */
import type { Confidence, Hit } from '../types.js';

/** Hits returned by one call at most (a message full of numbers must not build a huge list). */
export const HIT_CAP = 1000;

/** Characters either side of a candidate searched for a corroborating keyword. */
export const NEAR_CHARS = 50;

/** A text detector: the built-ins and the custom ones share this shape. */
export type TextScan = (text: string) => Hit[];

/** Collects hits up to HIT_CAP; `full` tells a scanner to stop early. */
export class HitList {
  readonly hits: Hit[] = [];
  get full(): boolean {
    return this.hits.length >= HIT_CAP;
  }
  add(value: string, index: number, length: number, confidence: Confidence): void {
    if (this.hits.length < HIT_CAP) this.hits.push({ value, index, length, confidence });
  }
}

/**
 * Whether `keywords` (a regex without the g/y flags, a plain alternation of
 * literals) matches within NEAR_CHARS characters of text[index, index+length).
 */
export function keywordNear(text: string, index: number, length: number, keywords: RegExp): boolean {
  const from = Math.max(0, index - NEAR_CHARS);
  const to = Math.min(text.length, index + length + NEAR_CHARS);
  return keywords.test(text.slice(from, index)) || keywords.test(text.slice(index + length, to));
}

export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** The digits of a string, nothing else ("4111-1111" → "41111111"). */
export function digitsOf(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) if (isDigit(s.charCodeAt(i))) out += s[i];
  return out;
}

/** Every character the same ("0000000000000000"): a placeholder, not data. */
export function allSame(s: string): boolean {
  for (let i = 1; i < s.length; i++) if (s[i] !== s[0]) return false;
  return s.length > 0;
}

// ---------------------------------------------------------------- words

const WORD_CHAR = /^[\p{L}\p{M}\p{N}]$/u;
/**
 * Per code point: 0 not looked at yet, 1 part of a word, 2 a separator.
 * Filled lazily: a Unicode-property regex per word was the slowest part of a scan.
 */
const CLASS = new Uint8Array(0x110000);
for (let c = 0; c < 128; c++) CLASS[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? 1 : 2;

function wordCode(cp: number): boolean {
  let c = CLASS[cp]!;
  if (c === 0) {
    c = WORD_CHAR.test(String.fromCodePoint(cp)) ? 1 : 2;
    CLASS[cp] = c;
  }
  return c === 1;
}

/**
 * Calls `each(start, end)` for every word of `text` — a run of Unicode
 * letters, marks and digits — in order, until it returns false.
 */
export function forEachWord(text: string, each: (start: number, end: number) => boolean | void): void {
  let start = -1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let cp = text.charCodeAt(i);
    let width = 1;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        width = 2;
      }
    }
    if (wordCode(cp)) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (each(start, i) === false) return;
      start = -1;
    }
    i += width - 1;
  }
  if (start >= 0) each(start, n);
}

/** The words of a short string (a term), in order. */
export function wordsOf(s: string): string[] {
  const out: string[] = [];
  forEachWord(s, (a, b) => {
    out.push(s.slice(a, b));
  });
  return out;
}
