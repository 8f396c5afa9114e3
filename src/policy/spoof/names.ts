/** Person names compared the way a reader sees them. */
import { skeleton } from './confusables.js';

const MAX_NAME = 256;

/**
 * Case and diacritics folded (NFKD, marks dropped), confusable letters mapped
 * (TR39 skeleton), punctuation dropped, "Last, First" turned round, words
 * sorted: "Doe, Jane", "JANE  DOE" and "Jäne Doe" give one key.
 */
export function nameKey(name: string): string {
  let n = name.length > MAX_NAME ? name.slice(0, MAX_NAME) : name;
  n = n.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const comma = n.indexOf(',');
  if (comma >= 0 && n.indexOf(',', comma + 1) < 0) n = `${n.slice(comma + 1)} ${n.slice(0, comma)}`;
  const words = n
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .filter((w) => w !== '')
    .map((w) => skeleton(w));
  return words.sort().join(' ');
}
