/**
 * US bank routing numbers (ABA RTN): nine digits whose first two are 00–12,
 * 21–32, 61–72 or 80, with the weighted checksum 3-7-1 ≡ 0 (mod 10). Any
 * nine-digit number passes one time in ten, so alone it is low; high with
 * "routing", "ABA" or "RTN" within 50 characters.
 */
import type { Hit } from '../types.js';
import { HitList, allSame, keywordNear } from './shared.js';

const CANDIDATE = /(?<![\w-])\d{9}(?![\w-]|[.,]\d)/g;
const ABA_WORDS = /routing|\baba\b|\brtn\b|transit number|\bach\b|wire/i;

export function validAba(d: string): boolean {
  if (d.length !== 9 || allSame(d)) return false;
  const prefix = Number(d.slice(0, 2));
  const okPrefix = prefix <= 12 || (prefix >= 21 && prefix <= 32) || (prefix >= 61 && prefix <= 72) || prefix === 80;
  if (!okPrefix) return false;
  const n = (i: number): number => d.charCodeAt(i) - 48;
  const sum = 3 * (n(0) + n(3) + n(6)) + 7 * (n(1) + n(4) + n(7)) + (n(2) + n(5) + n(8));
  return sum % 10 === 0;
}

export function scanAba(text: string): Hit[] {
  const hits = new HitList();
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m && !hits.full; m = CANDIDATE.exec(text)) {
    if (!validAba(m[0])) continue;
    hits.add(m[0], m.index, 9, keywordNear(text, m.index, 9, ABA_WORDS) ? 'high' : 'low');
  }
  return hits.hits;
}
