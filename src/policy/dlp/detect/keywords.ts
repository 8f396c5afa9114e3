/**
 * Administrator terms: words or phrases matched on word boundaries, where a
 * word is a run of Unicode letters, marks and digits and anything else
 * separates words ("attorney-client" matches "attorney client" too).
 * Case-insensitive unless case_sensitive. With `near`, a term counts only
 * when one of the near terms is within `words` words before or after it
 * (at most `words` words in between).
 *
 * The text is tokenized once and phrases are compared word by word; no
 * regular expression is ever built from a term, so any term list runs in
 * linear time. Hits: medium for a plain term, high when `near` holds; a
 * hit's value is the term as configured (lower case unless case_sensitive,
 * words joined by single spaces), so "Confidential" and "CONFIDENTIAL" are
 * one distinct value.
 */
import type { Confidence, Hit } from '../types.js';
import { HIT_CAP, forEachWord, wordsOf } from './shared.js';

export const words = wordsOf;

export interface KeywordsOptions {
  readonly terms: readonly string[];
  readonly caseSensitive: boolean;
  readonly near?: { readonly terms: readonly string[]; readonly words: number };
}

/** Every word of every phrase gets an id; a text word outside this vocabulary is -1 and ends no phrase. */
class Vocabulary {
  readonly ids = new Map<string, number>();
  readonly words: string[] = [];
  /** Word lengths present, so most text words are rejected without slicing or hashing them. */
  readonly lengths = new Set<number>();
  id(word: string): number {
    let id = this.ids.get(word);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(word, id);
      this.words.push(word);
      this.lengths.add(word.length);
    }
    return id;
  }
}

/** Phrases (as word ids) by their first word's id. */
type PhraseTable = Map<number, Int32Array[]>;

function table(terms: readonly string[], fold: (w: string) => string, vocab: Vocabulary): { table: PhraseTable; longest: number } {
  const t: PhraseTable = new Map();
  let longest = 1;
  for (const term of terms) {
    const ids = Int32Array.from(words(term).map((w) => vocab.id(fold(w))));
    if (ids.length === 0) continue;
    longest = Math.max(longest, ids.length);
    const list = t.get(ids[0]!) ?? [];
    if (!list.some((p) => p.length === ids.length && p.every((w, i) => w === ids[i]))) list.push(ids);
    t.set(ids[0]!, list);
  }
  return { table: t, longest };
}

/** Builds the scanner; terms without a single word are the caller's to reject (see `words`). */
export function keywordScanner(opts: KeywordsOptions): (text: string) => Hit[] {
  const fold = opts.caseSensitive ? (w: string) => w : (w: string) => w.toLowerCase();
  const vocab = new Vocabulary();
  const main = table(opts.terms, fold, vocab);
  const near = opts.near ? table(opts.near.terms, fold, vocab) : null;
  const distance = opts.near?.words ?? 0;
  const longest = Math.max(main.longest, near?.longest ?? 1);

  return (text: string): Hit[] => {
    const hits: Hit[] = [];
    // The last `longest` words (id and offset), circular, to match a phrase ending at the current word.
    const ringId = new Int32Array(longest);
    const ringAt = new Float64Array(longest);
    // Term hits still waiting for a near term to follow: [first word, last word, index, end, value].
    const pending: [number, number, number, number, string][] = [];
    // Last words of recent near terms, ascending; only the latest few can overlap a term, so the list stays short.
    const nearEnds: number[] = [];
    let n = 0;
    const emit = (value: string, index: number, end: number, confidence: Confidence): void => {
      if (hits.length < HIT_CAP) hits.push({ value, index, length: end - index, confidence });
    };
    /** The phrase of `len` words ending at word n, as configured (folded, single spaces). */
    const phrase = (len: number): string => {
      const ws: string[] = [];
      for (let k = n - len + 1; k <= n; k++) ws.push(vocab.words[ringId[k % longest]!]!);
      return ws.join(' ');
    };
    /** Length in words of the longest phrase of `t` ending at word n (0: none). */
    const phraseEndingHere = (t: PhraseTable): number => {
      let best = 0;
      for (let len = 1; len <= longest && len <= n + 1; len++) {
        const phrases = t.get(ringId[(n - len + 1) % longest]!);
        if (!phrases) continue;
        for (const p of phrases) {
          if (p.length !== len) continue;
          let ok = true;
          for (let i = 1; i < len && ok; i++) ok = ringId[(n - len + 1 + i) % longest] === p[i];
          if (ok) best = len;
        }
      }
      return best;
    };
    // Folding the whole text at once is much cheaper than word by word, when it keeps every offset.
    const lower = opts.caseSensitive ? text : text.toLowerCase();
    const folded = lower.length === text.length ? lower : null;
    forEachWord(text, (index, end) => {
      let id = -1;
      if (folded) {
        if (vocab.lengths.has(end - index)) id = vocab.ids.get(folded.slice(index, end)) ?? -1;
      } else {
        id = vocab.ids.get(fold(text.slice(index, end))) ?? -1;
      }
      ringId[n % longest] = id;
      ringAt[n % longest] = index;
      // A pending term is out of reach once even a phrase of `longest` words ending here starts too far after it.
      while (pending.length > 0 && n - longest + 1 - pending[0]![1] - 1 > distance) pending.shift();
      if (id >= 0) {
        if (near) {
          const len = phraseEndingHere(near.table);
          if (len > 0) {
            const first = n - len + 1;
            const kept = pending.filter((p) => p[1] >= first); // overlapping this near term: not "near" it
            for (const p of pending) if (p[1] < first && first - p[1] - 1 <= distance) emit(p[4], p[2], p[3], 'high');
            pending.splice(0, pending.length, ...kept);
            nearEnds.push(n);
            if (nearEnds.length > longest + 1) nearEnds.shift();
          }
        }
        const len = phraseEndingHere(main.table);
        if (len > 0) {
          const start = ringAt[(n - len + 1) % longest]!;
          const first = n - len + 1;
          const value = phrase(len);
          if (!near) emit(value, start, end, 'medium');
          else if (first - nearEndBefore(nearEnds, first) - 1 <= distance) emit(value, start, end, 'high');
          else pending.push([first, n, start, end, value]);
        }
      }
      n++;
      return hits.length < HIT_CAP;
    });
    return hits.sort((a, b) => a.index - b.index);
  };
}

/** The last word of the latest near term ending before word `first` (-Infinity: none). */
function nearEndBefore(ends: readonly number[], first: number): number {
  for (let i = ends.length - 1; i >= 0; i--) if (ends[i]! < first) return ends[i]!;
  return -Infinity;
}
