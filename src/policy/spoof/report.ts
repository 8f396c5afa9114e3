/**
 * `postern spoof report` and the console's spoofing page: spoofed and forged
 * mail counted by detector, origin (inside / outside the organisation),
 * result and action, from the `spoof.detected` events the stage records.
 * Only tallies are read (labels, never addresses or subjects).
 */
import type { EventRepo, EventTally } from '../../store/types.js';

export const SPOOF_FIELDS = ['detector', 'origin', 'result', 'action'] as const;

export interface SpoofReport {
  readonly since: number;
  readonly until: number | null;
  readonly total: number;
  readonly byOrigin: { readonly inside: number; readonly outside: number };
  /** Detector → count, most first. */
  readonly byDetector: readonly { readonly detector: string; readonly count: number }[];
  /** One row per detector, origin, result and action; most frequent first. */
  readonly rows: readonly EventTally[];
}

/** Over [since, until), or up to now when `until` is absent. */
export async function buildSpoofReport(events: Pick<EventRepo, 'tally'>, since: number, until?: number): Promise<SpoofReport> {
  const rows = await events.tally('spoof.detected', since, SPOOF_FIELDS, until);
  const byOrigin = { inside: 0, outside: 0 };
  const detectors = new Map<string, number>();
  for (const r of rows) {
    if (r.labels.origin === 'inside' || r.labels.origin === 'outside') byOrigin[r.labels.origin] += r.count;
    const d = r.labels.detector ?? '-';
    detectors.set(d, (detectors.get(d) ?? 0) + r.count);
  }
  const byDetector = [...detectors].map(([detector, count]) => ({ detector, count })).sort((a, b) => b.count - a.count || a.detector.localeCompare(b.detector));
  return { since, until: until ?? null, total: rows.reduce((n, r) => n + r.count, 0), byOrigin, byDetector, rows };
}
