/**
 * IMAP sequence sets (RFC 9051 section 9 "sequence-set"): parsed form, helpers
 * that work on ranges (never on one array entry per message), and formatters.
 */

/** A bound: a number, or "*" (the largest number in use). */
export type SeqBound = number | '*';

/** "n" is { from: n, to: n }; "a:b" keeps the order the client wrote. */
export interface SeqRange {
  readonly from: SeqBound;
  readonly to: SeqBound;
}

/** A parsed set, or "$" (the result saved by SEARCH RETURN (SAVE), RFC 5182). */
export type SequenceSet = { readonly type: 'set'; readonly ranges: readonly SeqRange[] } | { readonly type: 'saved' };

const MAX32 = 0xffffffff;

function parseBound(s: string): SeqBound | null {
  if (s === '*') return '*';
  if (!/^[1-9][0-9]{0,9}$/.test(s)) return null;
  const n = Number(s);
  return n <= MAX32 ? n : null;
}

/** Parses "1:5,7,9:*" or "$"; null when invalid. */
export function parseSequenceSet(text: string): SequenceSet | null {
  if (text === '$') return { type: 'saved' };
  if (text.length === 0) return null;
  const ranges: SeqRange[] = [];
  for (const part of text.split(',')) {
    const colon = part.indexOf(':');
    if (colon < 0) {
      const b = parseBound(part);
      if (b === null) return null;
      ranges.push({ from: b, to: b });
    } else {
      const from = parseBound(part.slice(0, colon));
      const to = parseBound(part.slice(colon + 1));
      if (from === null || to === null) return null;
      ranges.push({ from, to });
    }
  }
  return { type: 'set', ranges };
}

/** Formats a parsed set back to its wire form. */
export function formatSequenceSet(set: SequenceSet): string {
  if (set.type === 'saved') return '$';
  return set.ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}:${r.to}`)).join(',');
}

/**
 * Resolves "*" to max, orders each range, clips to 1..max and merges: the
 * result is sorted, disjoint and no longer than the input. For UIDs, pass the
 * highest UID in use as max (so "5:*" with max 3 covers 3, as RFC 9051 says).
 */
export function normalizeSequenceSet(ranges: readonly SeqRange[], max: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (max < 1) return out;
  for (const r of ranges) {
    const a = r.from === '*' ? max : r.from;
    const b = r.to === '*' ? max : r.to;
    const lo = Math.max(1, Math.min(a, b));
    const hi = Math.min(max, Math.max(a, b));
    if (lo <= hi) out.push([lo, hi]);
  }
  out.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** Every number of the set within 1..max, ascending, each once; lazily. */
export function* expandSequenceSet(ranges: readonly SeqRange[], max: number): Generator<number> {
  for (const [lo, hi] of normalizeSequenceSet(ranges, max)) {
    for (let n = lo; n <= hi; n++) yield n;
  }
}

/** Sets this long or shorter are scanned; longer ones are compiled once and searched. */
const SCAN_MAX = 8;
// Sorted, merged bounds of each long set per max, built on first use. A set is
// asked about every message of a folder (SEARCH) or every expunged UID
// (QRESYNC): scanning a client's 16,000 ranges for each would cost their product.
const compiled = new WeakMap<readonly SeqRange[], { max: number; lo: number[]; hi: number[] }>();

/** Whether n (1..max) is in the set. */
export function inSequenceSet(ranges: readonly SeqRange[], n: number, max: number): boolean {
  if (n < 1 || n > max) return false;
  if (ranges.length <= SCAN_MAX) {
    for (const r of ranges) {
      const a = r.from === '*' ? max : r.from;
      const b = r.to === '*' ? max : r.to;
      if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
    }
    return false;
  }
  let c = compiled.get(ranges);
  if (!c || c.max !== max) {
    const merged = normalizeSequenceSet(ranges, max);
    c = { max, lo: merged.map((r) => r[0]), hi: merged.map((r) => r[1]) };
    compiled.set(ranges, c);
  }
  // The last range starting at or before n is the only one that can hold it.
  let a = 0;
  let b = c.lo.length - 1;
  while (a <= b) {
    const mid = (a + b) >>> 1;
    if (c.lo[mid]! <= n) a = mid + 1;
    else b = mid - 1;
  }
  return b >= 0 && n <= c.hi[b]!;
}

/** How many numbers of 1..max the set covers. */
export function sequenceSetCount(ranges: readonly SeqRange[], max: number): number {
  let n = 0;
  for (const [lo, hi] of normalizeSequenceSet(ranges, max)) n += hi - lo + 1;
  return n;
}

/** The largest explicit number in the set (to reject message numbers beyond EXISTS); 0 when only "*". */
export function sequenceSetMaxNumber(ranges: readonly SeqRange[]): number {
  let m = 0;
  for (const r of ranges) {
    if (r.from !== '*') m = Math.max(m, r.from);
    if (r.to !== '*') m = Math.max(m, r.to);
  }
  return m;
}

/** Compact form of a list of numbers, e.g. UIDs for COPYUID: [1,2,3,4,5,7,9,10] gives "1:5,7,9:10". */
export function formatUidSet(numbers: Iterable<number>): string {
  const sorted = [...numbers].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i]!;
    let end = start;
    while (i + 1 < sorted.length && (sorted[i + 1] === end + 1 || sorted[i + 1] === end)) end = sorted[++i]!;
    parts.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return parts.join(',');
}

/**
 * Like formatUidSet but keeps the given order (COPYUID pairs source and
 * destination UIDs by position): [3,4,5,1] gives "3:5,1".
 */
export function formatUidList(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    const start = numbers[i]!;
    let end = start;
    while (i + 1 < numbers.length && numbers[i + 1] === end + 1) end = numbers[++i]!;
    parts.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return parts.join(',');
}

/** Formats normalized ranges (from normalizeSequenceSet). */
export function formatRanges(ranges: ReadonlyArray<readonly [number, number]>): string {
  return ranges.map(([a, b]) => (a === b ? String(a) : `${a}:${b}`)).join(',');
}
