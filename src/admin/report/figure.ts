import type { EventRepo, EventTally } from '../../store/types.js';
import type { Count, Figure, Span } from './types.js';

/** A value and its value over the previous window, with the change. */
export function figure(value: number | null, previous: number | null): Figure {
  const change = value === null || previous === null ? null : value - previous;
  const changePct = change === null || !previous ? null : (change / previous) * 100;
  return { value, previous, change, changePct };
}

/** part / whole in percent; null when there is no whole. */
export function share(part: number, whole: number): number | null {
  return whole > 0 ? (part / whole) * 100 : null;
}

export const sum = (rows: readonly { count: number }[]): number => rows.reduce((a, r) => a + r.count, 0);

/** Label value as shown: a missing label is '-'. */
export const label = (v: string | null | undefined): string => (v === null || v === undefined || v === '' ? '-' : v);

export function counts(rows: readonly EventTally[]): Count[] {
  return rows.map((r) => ({ labels: Object.fromEntries(Object.entries(r.labels).map(([k, v]) => [k, label(v)])), count: r.count }));
}

/** A tally of one kind over the window and over the previous window. */
export async function tallyBoth(events: EventRepo, kind: string, fields: readonly string[], w: Span, p: Span): Promise<[EventTally[], EventTally[]]> {
  return Promise.all([events.tally(kind, w.since, fields, w.until), events.tally(kind, p.since, fields, p.until)]);
}

/** Total of a kind in both windows, as a figure. */
export async function totalFigure(events: EventRepo, kind: string, w: Span, p: Span): Promise<Figure> {
  const [a, b] = await tallyBoth(events, kind, [], w, p);
  return figure(sum(a), sum(b));
}

/** A label value that means "yes" (booleans are stored as JSON and read back as 'true' or '1'). */
export const yes = (v: string | null | undefined): boolean => v === 'true' || v === '1';
