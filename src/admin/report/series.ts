/** Per-bucket series for the charts: hours for a short window, days (at most 120 buckets) otherwise. */
import type { EventBucket, EventTally } from '../../store/types.js';
import { touches, unionMs } from './availability.js';
import { label } from './figure.js';
import type { Outage, Series, Span } from './types.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const MAX_BUCKETS = 120;

export function bucketMsFor(s: Span): number {
  const len = s.until - s.since;
  if (len <= 2 * DAY) return HOUR;
  return Math.ceil(len / MAX_BUCKETS / DAY) * DAY;
}

/** Buckets collapsed into a tally (the same counts tally() over the whole span gives). */
export function collapse(buckets: readonly EventBucket[]): EventTally[] {
  const out = new Map<string, EventTally>();
  for (const b of buckets) {
    const key = JSON.stringify(b.labels);
    const prev = out.get(key);
    out.set(key, { labels: b.labels, count: (prev?.count ?? 0) + b.count });
  }
  return [...out.values()].sort((a, b) => b.count - a.count);
}

export function buildSeries(
  s: Span,
  bucketMs: number,
  messages: readonly EventBucket[],
  corrections: readonly EventBucket[],
  outages: readonly Omit<Outage, 'msInWindow'>[],
): Series {
  const n = Math.max(1, Math.ceil((s.until - s.since) / bucketMs));
  const starts = Array.from({ length: n }, (_, i) => s.since + i * bucketMs);
  const index = (start: number) => Math.round((start - s.since) / bucketMs);
  const byTls = new Map<string, number[]>();
  for (const b of messages) {
    const tls = label(b.labels.tls);
    const row = byTls.get(tls) ?? byTls.set(tls, new Array<number>(n).fill(0)).get(tls)!;
    row[index(b.start)]! += b.count;
  }
  const corr = new Array<number>(n).fill(0);
  for (const b of corrections) corr[index(b.start)]! += b.count;
  const spans = starts.map((since) => ({ since, until: Math.min(since + bucketMs, s.until) }));
  const unplanned = outages.filter((o) => !o.planned);
  return {
    bucketMs,
    starts,
    messagesByTls: [...byTls.entries()].map(([tls, counts]) => ({ tls, counts })).sort((a, b) => sumOf(b.counts) - sumOf(a.counts)),
    corrections: corr,
    outages: outageCounts(outages, s, bucketMs, n),
    unplannedMs: spans.map((b) => unionMs(unplanned, b)),
  };
}

const sumOf = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0);

/** Outages per bucket: each counts in the bucket it starts in (the first, if it began before the window). */
function outageCounts(outages: readonly Omit<Outage, 'msInWindow'>[], s: Span, bucketMs: number, n: number): number[] {
  const out = new Array<number>(n).fill(0);
  for (const o of outages) if (touches(o, s)) out[Math.min(n - 1, Math.floor((Math.max(o.from, s.since) - s.since) / bucketMs))]! += 1;
  return out;
}
