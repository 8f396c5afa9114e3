/**
 * Availability figures: outages recorded as `availability.downtime` (by a
 * node at its next start, or by the probe), clipped to the window; the
 * availability of the window and the SLA; maintenance windows; delivery
 * times; the queue now. Reads the events and delivery_times tables and the
 * queue's current state.
 */
import type { DeliveryTimeRepo, DeliveryTimeSummary, EventRepo, PendingSummary, StoreEvent } from '../../store/types.js';
import { NO_SCHEDULE, maintenanceWindowsBetween, type MaintenanceSchedule } from '../../store/maintenance.js';
import { figure } from './figure.js';
import type { Availability, DeliveryFigures, Outage, Span } from './types.js';

const MAX_LISTED = 100;
const DIRECTIONS = ['internal', 'outbound', 'inbound'] as const;

interface Interval {
  readonly from: number;
  readonly to: number;
}

/** Reads one downtime event; a malformed one falls back to its time and length. */
export function toOutage(e: StoreEvent): Omit<Outage, 'msInWindow'> {
  const n = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const to = n(e.data.to) ?? e.at;
  const from = Math.min(to, n(e.data.from) ?? to - Math.max(0, n(e.data.ms) ?? 0));
  const planned = e.data.planned === true || e.data.planned === 'true';
  return { node: e.subject.slice(0, 200), cause: String(e.data.cause ?? '-').slice(0, 64), planned, from, to };
}

/** Whether an outage overlaps [since, until); a zero-length one counts when it lies inside. */
export const touches = (o: Interval, s: Span): boolean => (o.to > o.from ? o.from < s.until && o.to > s.since : o.from >= s.since && o.from < s.until);

export const clip = (o: Interval, s: Span): Interval => ({ from: Math.max(o.from, s.since), to: Math.min(o.to, s.until) });

/** Length of the union of the intervals inside the span: overlapping outages count once. */
export function unionMs(intervals: readonly Interval[], s: Span): number {
  const parts = intervals.map((i) => clip(i, s)).filter((i) => i.to > i.from).sort((a, b) => a.from - b.from);
  let total = 0;
  let end = -Infinity;
  for (const p of parts) {
    const from = Math.max(p.from, end);
    if (p.to > from) total += p.to - from;
    end = Math.max(end, p.to);
  }
  return total;
}

export interface WindowOutages {
  readonly count: number;
  readonly planned: number;
  readonly unplanned: number;
  readonly plannedMs: number;
  readonly unplannedMs: number;
}

export function outagesIn(all: readonly Omit<Outage, 'msInWindow'>[], s: Span): WindowOutages {
  const hit = all.filter((o) => touches(o, s));
  const planned = hit.filter((o) => o.planned);
  const unplanned = hit.filter((o) => !o.planned);
  return { count: hit.length, planned: planned.length, unplanned: unplanned.length, plannedMs: unionMs(planned, s), unplannedMs: unionMs(unplanned, s) };
}

/** 100 × (1 − unplanned downtime / window length). */
export const availabilityPct = (unplannedMs: number, s: Span): number => 100 * (1 - unplannedMs / (s.until - s.since));

function deliveryFigures(now: readonly DeliveryTimeSummary[], prev: readonly DeliveryTimeSummary[]): DeliveryFigures[] {
  return DIRECTIONS.map((direction) => {
    const a = now.find((r) => r.direction === direction);
    const b = prev.find((r) => r.direction === direction);
    const f = (k: 'avgMs' | 'p50Ms' | 'p95Ms' | 'p99Ms') => figure(a ? a[k] : null, b ? b[k] : null);
    return { direction, count: figure(a?.count ?? 0, b?.count ?? 0), avgMs: f('avgMs'), p50Ms: f('p50Ms'), p95Ms: f('p95Ms'), p99Ms: f('p99Ms') };
  });
}

export interface AvailabilityInputs {
  readonly events: EventRepo;
  readonly deliveryTimes: DeliveryTimeRepo;
  readonly queue: { stats(): Promise<PendingSummary> };
  readonly slaTargetPct: number;
  readonly schedule?: MaintenanceSchedule;
  readonly now: number;
}

/** Every outage that may touch either window (recorded at its end, so at or after the previous window's start). */
export async function loadOutages(events: EventRepo, p: Span): Promise<Omit<Outage, 'msInWindow'>[]> {
  return (await events.between('availability.downtime', p.since, Number.MAX_SAFE_INTEGER, 10_000)).map(toOutage);
}

export async function availability(i: AvailabilityInputs, w: Span, p: Span, all: readonly Omit<Outage, 'msInWindow'>[]): Promise<Availability> {
  const [windows, times, prevTimes, queue] = await Promise.all([
    maintenanceWindowsBetween(i.events, i.schedule ?? NO_SCHEDULE, w.since, w.until),
    i.deliveryTimes.summary({ since: w.since, until: w.until }),
    i.deliveryTimes.summary({ since: p.since, until: p.until }),
    i.queue.stats(),
  ]);
  const [a, b] = [outagesIn(all, w), outagesIn(all, p)];
  const pct = availabilityPct(a.unplannedMs, w);
  // The target has at most three decimals: thousandths of a percent keep the budget exact (99.9% of 30 d is 2,592,000 ms).
  const allowedMs = Math.floor((Math.round((100 - i.slaTargetPct) * 1000) * (w.until - w.since)) / 100_000);
  return {
    outages: figure(a.count, b.count),
    plannedOutages: figure(a.planned, b.planned),
    unplannedOutages: figure(a.unplanned, b.unplanned),
    plannedMs: figure(a.plannedMs, b.plannedMs),
    unplannedMs: figure(a.unplannedMs, b.unplannedMs),
    availabilityPct: figure(pct, availabilityPct(b.unplannedMs, p)),
    sla: { targetPct: i.slaTargetPct, met: a.unplannedMs <= allowedMs, allowedMs, remainingMs: allowedMs - a.unplannedMs },
    outageList: all
      .filter((o) => touches(o, w))
      .sort((x, y) => x.from - y.from)
      .slice(-MAX_LISTED)
      .map((o) => ({ ...o, msInWindow: Math.max(0, clip(o, w).to - clip(o, w).from) })),
    maintenance: windows.map((m) => ({ from: m.from, to: m.to, reason: m.reason.slice(0, 200), source: m.source ?? 'declared' })),
    delivery: deliveryFigures(times, prevTimes),
    queueNow: { messages: queue.messages, recipients: queue.recipients, oldestAgeMs: queue.oldestReceivedAt === null ? null : Math.max(0, i.now - queue.oldestReceivedAt) },
  };
}
