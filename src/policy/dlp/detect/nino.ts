/**
 * UK National Insurance numbers: two letters, six digits (optionally in
 * space-separated pairs) and a suffix A–D ("AB 12 34 56 C"). The first letter
 * is never D F I Q U V, the second never D F I O Q U V, and BG GB KN NK NT TN
 * ZZ are not allocated. Medium alone; high with "national insurance", "NI
 * number" or "NINO" within 50 characters. A hit's value is the number
 * without spaces.
 */
import type { Hit } from '../types.js';
import { HitList, keywordNear } from './shared.js';

const CANDIDATE = /\b([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])\b/g;
const BAD_PREFIXES = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);
const NINO_WORDS = /national insurance|\bni ?(?:no\b|num|#)|\bnino\b/i;

export function scanNino(text: string): Hit[] {
  const hits = new HitList();
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m && !hits.full; m = CANDIDATE.exec(text)) {
    if (BAD_PREFIXES.has(m[1]!)) continue;
    hits.add(m[1]! + m[2]! + m[3]! + m[4]! + m[5]!, m.index, m[0].length, keywordNear(text, m.index, m[0].length, NINO_WORDS) ? 'high' : 'medium');
  }
  return hits.hits;
}
