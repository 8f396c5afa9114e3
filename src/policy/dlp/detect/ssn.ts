/**
 * US Social Security numbers: ddd-dd-dddd or ddd dd dddd (medium), nine bare
 * digits (low); high with "SSN" or "social security" within 50 characters.
 * Numbers the SSA never issues are not SSNs: area 000, 666 or 900–999, group
 * 00, serial 0000, one digit repeated, and the numbers printed in
 * advertisements and samples (078-05-1120, 219-09-9999, 123-45-6789).
 * A 3-2-4 shape never matches a date (4-2-2, 2-2-4), a phone number (3-3-4)
 * or a ZIP+4 (5-4); digits or separators running on either side exclude it.
 * A hit's value is the nine digits.
 */
import type { Hit } from '../types.js';
import { HitList, allSame, isDigit, keywordNear } from './shared.js';

// Fixed-width parts and one back-reference to the separator: linear. The context is checked in `runsOn`.
const CANDIDATE = /(?<![\w\-/.])(\d{3})([- ]?)(\d{2})\2(\d{4})(?!\w)/g;
const SSN_WORDS = /\bssns?\b|social security|\bss ?#|\bsoc\.? ?sec|sozialversicherungsnummer/i;

const SAMPLES = new Set(['078051120', '219099999', '123456789']);

export function validSsn(digits: string): boolean {
  if (digits.length !== 9 || SAMPLES.has(digits) || allSame(digits)) return false;
  const area = Number(digits.slice(0, 3));
  if (area === 0 || area === 666 || area >= 900) return false;
  return digits.slice(3, 5) !== '00' && digits.slice(5) !== '0000';
}

const digitAt = (text: string, i: number): boolean => i >= 0 && i < text.length && isDigit(text.charCodeAt(i));

/**
 * Part of a longer figure: "12-536-22-8726", "536-22-8726-1", "536-22-8726.5";
 * for the space and bare forms also a neighbouring number ("0049 536228726",
 * "536 22 8726 12"), while "536-22-8726 1985" in a table is still an SSN.
 */
function runsOn(text: string, start: number, end: number, sep: string): boolean {
  const next = text[end];
  if ((next === '-' || next === '/' || next === '.') && digitAt(text, end + 1)) return true;
  if (sep === '-') return false;
  return (text[start - 1] === ' ' && digitAt(text, start - 2)) || (next === ' ' && digitAt(text, end + 1));
}

export function scanSsn(text: string): Hit[] {
  const hits = new HitList();
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m && !hits.full; m = CANDIDATE.exec(text)) {
    if (runsOn(text, m.index, m.index + m[0].length, m[2]!)) continue;
    const digits = m[1]! + m[3]! + m[4]!;
    if (!validSsn(digits)) continue;
    const near = keywordNear(text, m.index, m[0].length, SSN_WORDS);
    const confidence = near ? 'high' : m[2] === '' ? 'low' : 'medium';
    hits.add(digits, m.index, m[0].length, confidence);
  }
  return hits.hits;
}
