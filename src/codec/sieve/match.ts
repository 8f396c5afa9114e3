/**
 * Comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric) and the
 * match types :is, :contains, :matches and relational :value/:count (RFC 5231).
 * :matches is matched by the two-pointer wildcard walk: at most
 * (pattern length × text length) steps, no backtracking blow-up, and the
 * captures for ${1}... are the shortest (leftmost) matches of each wildcard.
 */

export type Comparator = 'i;octet' | 'i;ascii-casemap' | 'i;ascii-numeric';
export const COMPARATORS: readonly string[] = ['i;octet', 'i;ascii-casemap', 'i;ascii-numeric'];
export type Relation = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';
export const RELATIONS: readonly string[] = ['gt', 'ge', 'lt', 'le', 'eq', 'ne'];

/** Longest text and pattern :matches compares (beyond it the text is cut). */
export const MAX_MATCH_CHARS = 64 * 1024;

function fold(s: string, cmp: Comparator): string {
  if (cmp !== 'i;ascii-casemap') return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : s[i];
  }
  return out;
}

/** The leading digits as a number, or null (positive infinity in RFC 4790 terms). */
function numeric(s: string): number | null {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  return i === 0 ? null : Number(s.slice(0, i));
}

/** Orders two values under the comparator: negative, zero or positive. */
export function compare(a: string, b: string, cmp: Comparator): number {
  if (cmp === 'i;ascii-numeric') {
    const x = numeric(a);
    const y = numeric(b);
    if (x === null && y === null) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return x - y;
  }
  const x = fold(a, cmp);
  const y = fold(b, cmp);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function relate(order: number, rel: Relation): boolean {
  switch (rel) {
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
  }
}

export function contains(text: string, key: string, cmp: Comparator): boolean {
  return fold(text, cmp).includes(fold(key, cmp));
}

type Piece = { kind: 'lit'; c: string } | { kind: 'any' } | { kind: 'star' };

function pieces(pattern: string, cmp: Comparator): Piece[] {
  const out: Piece[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) out.push({ kind: 'lit', c: fold(pattern[++i]!, cmp) });
    else if (ch === '*') out.push({ kind: 'star' });
    else if (ch === '?') out.push({ kind: 'any' });
    else out.push({ kind: 'lit', c: fold(ch, cmp) });
  }
  return out;
}

/**
 * RFC 5228 :matches; returns the wildcard captures (one per * or ?, in order)
 * on a match, null otherwise. Bounded by `budget` steps (a shared counter).
 */
export function wildcard(text: string, pattern: string, cmp: Comparator, budget: { steps: number }): string[] | null {
  const s = fold(text.slice(0, MAX_MATCH_CHARS), cmp);
  const orig = text.slice(0, MAX_MATCH_CHARS);
  const p = pieces(pattern.slice(0, MAX_MATCH_CHARS), cmp);
  // capture start/end per piece index (only * and ? record)
  const starts = new Array<number>(p.length).fill(-1);
  const ends = new Array<number>(p.length).fill(-1);
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (--budget.steps < 0) return null;
    const pc = p[pi];
    if (pc && pc.kind === 'lit' && pc.c === s[si]) {
      si++;
      pi++;
    } else if (pc && pc.kind === 'any') {
      starts[pi] = si;
      ends[pi] = si + 1;
      si++;
      pi++;
    } else if (pc && pc.kind === 'star') {
      starP = pi;
      starS = si;
      starts[pi] = si;
      ends[pi] = si;
      pi++;
    } else if (starP >= 0) {
      // widen the last star by one character and retry what follows it
      pi = starP + 1;
      starS++;
      si = starS;
      ends[starP] = si;
    } else return null;
  }
  while (pi < p.length && p[pi]!.kind === 'star') {
    starts[pi] = s.length;
    ends[pi] = s.length;
    pi++;
  }
  if (pi !== p.length) return null;
  const caps: string[] = [];
  for (let k = 0; k < p.length; k++) if (p[k]!.kind !== 'lit') caps.push(orig.slice(starts[k], ends[k]));
  return caps;
}
