/** Number, time and trend formatting shared by the text and HTML renderers. */
import type { Figure } from './types.js';

export type Unit = 'count' | 'pct' | 'ms';

export const DASH = '—';

export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** "1 d 4 h", "3 h 12 m", "4 m 5 s", "850 ms". */
export function duration(ms: number): string {
  const neg = ms < 0 ? '-' : '';
  let x = Math.abs(Math.round(ms));
  if (x < 1000) return `${neg}${x} ms`;
  if (x < 60_000) return `${neg}${(x / 1000).toFixed(x < 10_000 ? 2 : 1)} s`;
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  const parts: string[] = [];
  for (const [u, size] of units) {
    if (x >= size && parts.length < 2) {
      parts.push(`${Math.floor(x / size)} ${u}`);
      x %= size;
    } else if (parts.length) break;
  }
  return neg + parts.join(' ');
}

export const pct = (p: number): string => `${p >= 99.995 && p < 100 ? p.toFixed(3) : p.toFixed(2)}%`;

export function value(v: number | null, unit: Unit): string {
  if (v === null) return DASH;
  return unit === 'count' ? int(v) : unit === 'pct' ? pct(v) : duration(v);
}

const signed = (s: string, n: number): string => (n > 0 ? `+${s}` : n === 0 ? `±${s}` : s);

/** Change against the previous window: absolute, and in percent (points for percentages); "—" with nothing to compare. */
export function trend(f: Figure, unit: Unit): string {
  if (f.change === null) return DASH;
  if (unit === 'pct') return `${signed(f.change.toFixed(2), f.change)} pt`;
  const abs = signed(unit === 'count' ? int(f.change) : duration(f.change), f.change);
  const rel = f.changePct === null ? DASH : `${signed(f.changePct.toFixed(1), f.changePct)}%`;
  return `${abs} (${rel})`;
}

/** "2026-12-03 16:05 UTC" */
export const when = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export const ago = (at: number | null, ageMs: number | null): string => (at === null || ageMs === null ? 'never' : `${when(at)} (${duration(ageMs)} before the end)`);
