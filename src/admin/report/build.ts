/**
 * Builds a report for [since, until) and the previous window of equal
 * length from the store alone (events, delivery times, and the queue for the
 * "now" figures), so it can be made for any past window.
 */
import type { DeliveryTimeRepo, EventRepo, PendingSummary } from '../../store/types.js';
import type { MaintenanceSchedule } from '../../store/maintenance.js';
import { availability, loadOutages } from './availability.js';
import { confidentiality } from './confidentiality.js';
import { integrity } from './integrity.js';
import { bucketMsFor, buildSeries, collapse } from './series.js';
import { REPORT_SCHEMA, type Report, type Span } from './types.js';

export interface ReportSources {
  readonly events: EventRepo;
  readonly deliveryTimes: DeliveryTimeRepo;
  readonly queue: { stats(): Promise<PendingSummary> };
}

export interface ReportOptions {
  readonly since: number;
  readonly until: number;
  /** When the report is made: the queue's figures are as of now. */
  readonly now: number;
  /** [report] sla_target, percent. */
  readonly slaTargetPct: number;
  readonly schedule?: MaintenanceSchedule;
}

export async function buildReport(src: ReportSources, o: ReportOptions): Promise<Report> {
  if (!(Number.isFinite(o.since) && Number.isFinite(o.until) && o.since < o.until)) throw new RangeError('a report needs since before until');
  const window: Span = { since: o.since, until: o.until };
  const previous: Span = { since: o.since - (o.until - o.since), until: o.since };
  const bucketMs = bucketMsFor(window);
  // Charted kinds are read once, per bucket; their window totals are the buckets summed.
  const [messages, corrections, outages] = await Promise.all([
    src.events.histogram('smtp.message', window.since, window.until, bucketMs, ['listener', 'tls']),
    src.events.histogram('integrity.corrected', window.since, window.until, bucketMs, ['area']),
    loadOutages(src.events, previous),
  ]);
  const [c, i, a] = await Promise.all([
    confidentiality(src.events, window, previous, collapse(messages)),
    integrity(src.events, window, previous, collapse(corrections)),
    availability({ ...src, slaTargetPct: o.slaTargetPct, now: o.now, ...(o.schedule ? { schedule: o.schedule } : {}) }, window, previous, outages),
  ]);
  return {
    schema: REPORT_SCHEMA,
    generatedAt: o.now,
    window,
    previous,
    confidentiality: c,
    integrity: i,
    availability: a,
    series: buildSeries(window, bucketMs, messages.filter((b) => b.labels.listener === 'mx' || b.labels.listener === 'submission' || b.labels.listener === 'submissions'), corrections, outages),
  };
}
