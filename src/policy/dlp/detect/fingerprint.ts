/**
 * Document fingerprints: a registered document is kept as hashes of its
 * 5-word shingles (never its text), thinned by winnowing (window 4), so a
 * message containing a large enough share of it is caught even when it was
 * re-typed with other whitespace, line breaks, case or punctuation.
 *
 * Text is normalised (NFKC, lower case) and cut into words (runs of letters,
 * marks and digits); each word is hashed once with 32-bit FNV-1a (UTF-16 code
 * units) and a shingle's hash is FNV-1a over its five word hashes, finished
 * with murmur3's fmix32 so that the winnowing minimum is well spread. Changing
 * any of this changes every stored fingerprint. A message's shingles are all hashed;
 * containment = |document ∩ message| / |document|, a hit at ≥ threshold.
 * Winnowing keeps, of every 4 consecutive shingles, the smallest hash, which
 * guarantees any passage of 8+ words shared with the document shares a kept
 * hash, while the stored fingerprint is about a third of the shingles.
 */
import type { Fingerprint, Hit, TextSegment } from '../types.js';
import { HIT_CAP, forEachWord } from './shared.js';

export const SHINGLE_WORDS = 5;
export const WINNOW_WINDOW = 4;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32-bit, over UTF-16 code units of s[from, to). */
export function fnv1a(s: string, from = 0, to = s.length): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** The hash of a shingle from its words' hashes (oldest first, ring[at] being the oldest). */
function shingleHash(ring: Uint32Array, at: number, count: number): number {
  let h = FNV_OFFSET;
  for (let k = 0; k < count; k++) {
    h ^= ring[(at + k) % SHINGLE_WORDS]!;
    h = Math.imul(h, FNV_PRIME);
  }
  // fmix32
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Calls `each` with the hash of every shingle of `text`, and returns the word
 * count. A text of fewer than five words is one shingle of all its words.
 */
export function shingles(text: string, each: (hash: number) => void): number {
  const norm = text.normalize('NFKC').toLowerCase();
  const ring = new Uint32Array(SHINGLE_WORDS);
  let count = 0;
  forEachWord(norm, (a, b) => {
    ring[count % SHINGLE_WORDS] = fnv1a(norm, a, b);
    count++;
    if (count >= SHINGLE_WORDS) each(shingleHash(ring, count % SHINGLE_WORDS, SHINGLE_WORDS));
  });
  if (count > 0 && count < SHINGLE_WORDS) each(shingleHash(ring, 0, count));
  return count;
}

/** The stored fingerprint of a document: winnowed shingle hashes, sorted and distinct. */
export function fingerprintOf(name: string, text: string): Fingerprint {
  const all: number[] = [];
  const words = shingles(text, (h) => all.push(h));
  const kept = new Set<number>();
  if (all.length <= WINNOW_WINDOW) {
    for (const h of all) kept.add(h);
  } else {
    for (let i = 0; i + WINNOW_WINDOW <= all.length; i++) {
      let min = i;
      for (let j = i + 1; j < i + WINNOW_WINDOW; j++) if (all[j]! <= all[min]!) min = j; // rightmost minimum
      kept.add(all[min]!);
    }
  }
  const hashes = Uint32Array.from(kept).sort();
  return { name, hashes, words };
}

type HashIndex = Map<number, [number, number][]>;

/** hash → [document, position in its hashes]: one lookup per message shingle, whatever the number of documents. */
function indexOf(docs: readonly Fingerprint[]): HashIndex {
  const where: HashIndex = new Map();
  docs.forEach((d, di) =>
    d.hashes.forEach((h, hi) => {
      const list = where.get(h);
      if (list) list.push([di, hi]);
      else where.set(h, [[di, hi]]);
    }),
  );
  return where;
}

function share(docs: readonly Fingerprint[], where: HashIndex, segments: readonly TextSegment[]): number[] {
  const seen = docs.map((d) => new Uint8Array(d.hashes.length));
  const found = docs.map(() => 0);
  for (const seg of segments) {
    shingles(seg.text, (h) => {
      for (const [di, hi] of where.get(h) ?? []) {
        if (seen[di]![hi] === 0) {
          seen[di]![hi] = 1;
          found[di]!++;
        }
      }
    });
  }
  return docs.map((d, i) => (d.hashes.length === 0 ? 0 : found[i]! / d.hashes.length));
}

/** Share (0..1) of each document's hashes found among the shingles of the segments (each segment on its own). */
export function containment(docs: readonly Fingerprint[], segments: readonly TextSegment[]): number[] {
  return share(docs, indexOf(docs), segments);
}

export function fingerprintScanner(
  docs: readonly Fingerprint[],
  threshold: number,
): (segments: readonly TextSegment[]) => Hit[] {
  const table = docs.filter((d) => d.hashes.length > 0);
  const where = indexOf(table);
  return (segments) => {
    const shares = share(table, where, segments);
    const hits: Hit[] = [];
    table.forEach((d, i) => {
      if (shares[i]! >= threshold && hits.length < HIT_CAP) hits.push({ value: d.name, index: 0, length: 0, confidence: 'high' });
    });
    return hits;
  };
}
