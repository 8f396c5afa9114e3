/** The PARTIAL return option's range (RFC 5267 section 4.4, with the negative ranges of RFC 9394). */
import type { PartialRange } from '../ast.js';
import { type Cursor } from '../cursor.js';
import { fail } from '../errors.js';

const MAX = 0xffffffff;

function end(c: Cursor): number {
  const negative = c.tryChar(0x2d);
  const n = c.nzNumber();
  if (n > MAX) fail('Invalid PARTIAL range');
  return negative ? -n : n;
}

/** "first:last", both positive or both negative; given the wrong way round ("4:2") it is turned. */
export function partialRange(c: Cursor): PartialRange {
  const a = end(c);
  c.expect(0x3a, '":"');
  const b = end(c);
  if (a > 0 !== b > 0) fail('Invalid PARTIAL range');
  return Math.abs(a) <= Math.abs(b) ? { first: a, last: b } : { first: b, last: a };
}

/**
 * The items at the range's positions, counted from 1 at the start, or for a
 * negative range from -1 at the end; in their own order either way.
 */
export function partialSlice<T>(items: readonly T[], r: PartialRange): T[] {
  if (r.first > 0) return items.slice(r.first - 1, r.last);
  const n = items.length;
  return items.slice(Math.max(0, n + r.last), Math.max(0, n + r.first + 1));
}

/**
 * The list after RETURN for SEARCH and SORT: options from `allowed`, and at
 * most one PARTIAL with its range, which ALL may not accompany (RFC 9394).
 */
export function returnOptions<T extends string>(c: Cursor, allowed: ReadonlySet<string>, verb: string): { options: T[]; partial: PartialRange | null } {
  const found: { partial: PartialRange | null } = { partial: null };
  const options: T[] = [];
  c.list(() => {
    const w = c.word('return option');
    if (w === 'PARTIAL' && found.partial === null) {
      c.sp();
      found.partial = partialRange(c);
    } else if (allowed.has(w)) options.push(w as T);
    else fail(`Unknown ${verb} return option ${w.slice(0, 40)}`);
  });
  if (found.partial !== null && options.includes('ALL' as T)) fail('PARTIAL and ALL cannot be combined');
  return { options, partial: found.partial };
}
