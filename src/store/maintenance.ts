/**
 * Maintenance windows: downtime inside one counts as planned, not as an
 * outage. Declared at the command line (`postern maintenance start|end`,
 * recorded as events) or scheduled in the config ([maintenance]: fixed
 * windows and weekly ones, in UTC). Readers ask for the windows that touch a
 * span of time, so any past window of time can be judged.
 */
import type { EventRepo } from './types.js';

/** The subject of maintenance events: windows are declared for the whole installation. */
export const MAINTENANCE = 'maintenance';

export interface MaintenanceWindow {
  readonly from: number;
  /** null while a declared window is still open. */
  readonly to: number | null;
  readonly reason: string;
  readonly source?: 'declared' | 'scheduled';
  /** When the declarer expected a still-open window to end; only said, the window stays open until ended. */
  readonly plannedEnd?: number;
}

export interface MaintenanceSchedule {
  /** Fixed windows (Unix ms). */
  readonly fixed: readonly { from: number; to: number; reason: string }[];
  /** Weekly windows: day 0 = Sunday, minute of the day in UTC, length in minutes. */
  readonly weekly: readonly { day: number; minute: number; minutes: number; reason: string }[];
}

export const NO_SCHEDULE: MaintenanceSchedule = { fixed: [], weekly: [] };

const WEEK = 7 * 86_400_000;
const DAY = 86_400_000;

/** The scheduled windows that overlap [from, to], oldest first. */
export function scheduledWindows(s: MaintenanceSchedule, from: number, to: number): MaintenanceWindow[] {
  const out: MaintenanceWindow[] = s.fixed.filter((w) => w.from <= to && w.to >= from).map((w) => ({ ...w, source: 'scheduled' as const }));
  for (const w of s.weekly) {
    // 1970-01-01 was a Thursday (day 4): the first such weekday at or before `from`, one week earlier for windows that run past midnight.
    const epochDay = ((w.day - 4 + 7) % 7) * DAY + w.minute * 60_000;
    let start = from - ((((from - epochDay) % WEEK) + WEEK) % WEEK) - WEEK;
    for (; start <= to; start += WEEK) {
      const end = start + w.minutes * 60_000;
      if (end >= from) out.push({ from: start, to: end, reason: w.reason, source: 'scheduled' });
    }
  }
  return out.sort((a, b) => a.from - b.from);
}

/** The declared maintenance windows recorded, oldest first; a window still open ends at null. */
export async function declaredWindows(events: EventRepo): Promise<MaintenanceWindow[]> {
  const marks = [...(await events.list('maintenance.start', 1000)), ...(await events.list('maintenance.end', 1000))].sort((a, b) => a.id - b.id);
  const out: { from: number; to: number | null; reason: string; source: 'declared'; plannedEnd?: number }[] = [];
  for (const m of marks) {
    const open = out.at(-1);
    if (m.kind === 'maintenance.start' && (!open || open.to !== null)) {
      const planned = m.data.plannedEnd;
      out.push({ from: m.at, to: null, reason: String(m.data.reason ?? ''), source: 'declared', ...(typeof planned === 'number' ? { plannedEnd: planned } : {}) });
    }
    else if (m.kind === 'maintenance.end' && open && open.to === null) open.to = m.at;
  }
  return out;
}

/** Declared and scheduled windows that overlap [from, to], oldest first. */
export async function maintenanceWindowsBetween(events: EventRepo, schedule: MaintenanceSchedule, from: number, to: number): Promise<MaintenanceWindow[]> {
  const declared = (await declaredWindows(events)).filter((w) => w.from <= to && (w.to === null || w.to >= from));
  return [...declared, ...scheduledWindows(schedule, from, to)].sort((a, b) => a.from - b.from);
}

/** True when a declared or scheduled maintenance window overlaps [from, to]. */
export async function inMaintenance(events: EventRepo, from: number, to: number, schedule: MaintenanceSchedule = NO_SCHEDULE): Promise<boolean> {
  return (await maintenanceWindowsBetween(events, schedule, from, to)).length > 0;
}

/** The longest reason kept with a declared window. */
export const MAX_REASON = 500;

/**
 * Opens a declared window now, unless one is open; returns why not, or null
 * once the start is recorded. A planned end must lie in the future.
 */
export async function startMaintenance(events: EventRepo, o: { reason: string; actor: string; plannedEnd?: number }, now: number): Promise<string | null> {
  const open = (await declaredWindows(events)).at(-1);
  if (open && open.to === null) return `a maintenance window is open since ${new Date(open.from).toISOString()}`;
  if (o.plannedEnd !== undefined && (!Number.isSafeInteger(o.plannedEnd) || o.plannedEnd <= now)) return 'the planned end must be a time in the future';
  const data = { reason: o.reason.slice(0, MAX_REASON), actor: o.actor, ...(o.plannedEnd !== undefined ? { plannedEnd: o.plannedEnd } : {}) };
  await events.record('maintenance.start', MAINTENANCE, data, now);
  return null;
}

/** Closes the open declared window; returns why not, or null once the end is recorded. */
export async function endMaintenance(events: EventRepo, actor: string, now: number): Promise<string | null> {
  const open = (await declaredWindows(events)).at(-1);
  if (!open || open.to !== null) return 'no maintenance window is open';
  await events.record('maintenance.end', MAINTENANCE, { actor }, now);
  return null;
}

/** What `maintenance list` shows: every declared window, oldest first, then the scheduled ones of the next 14 days. */
export async function listedWindows(events: EventRepo, schedule: MaintenanceSchedule, now: number): Promise<MaintenanceWindow[]> {
  return [...(await declaredWindows(events)), ...scheduledWindows(schedule, now, now + 14 * DAY)];
}
