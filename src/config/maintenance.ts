/**
 * [maintenance]: maintenance windows planned ahead. Downtime inside one
 * counts as planned, not as an outage (the report's availability and SLA
 * figures use only unplanned downtime). Times are UTC.
 *
 *   windows = [{ start = 2026-12-05T22:00:00Z, end = 2026-12-05T23:30:00Z, reason = "OS upgrade" }]
 *   weekly  = [{ day = "sun", at = "02:00", minutes = 120, reason = "patching" }]
 */
import { z } from 'zod';
import { describeValue, int, table } from './values.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** A TOML date-time with a zone (or an ISO string with one), as Unix ms. */
const instant = () =>
  z
    .custom<Date | string>(
      (v) => (v instanceof Date && !isNaN(v.getTime())) || (typeof v === 'string' && /(Z|[+-]\d\d:\d\d)$/i.test(v) && !isNaN(Date.parse(v))),
      { abort: false, error: (iss) => `expected a date-time with a zone, e.g. 2026-12-05T22:00:00Z, got ${describeValue(iss.input)}` },
    )
    .transform((v) => (v instanceof Date ? v.getTime() : Date.parse(v)));

const text = () =>
  z.custom<string>((v) => typeof v === 'string' && v.length <= 200, { abort: false, error: (iss) => `expected text of at most 200 characters, got ${describeValue(iss.input)}` });

const dayName = () =>
  z
    .custom<string>((v) => typeof v === 'string' && (DAYS as readonly string[]).includes(v.toLowerCase()), { abort: false, error: (iss) => `expected a day: ${DAYS.join(', ')}; got ${describeValue(iss.input)}` })
    .transform((v) => DAYS.indexOf(v.toLowerCase() as (typeof DAYS)[number]));

const timeOfDay = () =>
  z
    .custom<string>((v) => typeof v === 'string' && /^([01]\d|2[0-3]):[0-5]\d$/.test(v), { abort: false, error: (iss) => `expected HH:MM (UTC), got ${describeValue(iss.input)}` })
    .transform((v) => Number(v.slice(0, 2)) * 60 + Number(v.slice(3)));

export function maintenanceSection() {
  return table({
    windows: z
      .array(
        table({ start: instant(), end: instant(), reason: text().default('') }).refine((w) => w.end > w.start, { message: 'end must be after start' }),
      )
      .default([]),
    weekly: z.array(table({ day: dayName(), at: timeOfDay(), minutes: int(1, 7 * 24 * 60), reason: text().default('') })).default([]),
  })
    .prefault({})
    .transform((m) => ({
      fixed: m.windows.map((w) => ({ from: w.start, to: w.end, reason: w.reason })),
      weekly: m.weekly.map((w) => ({ day: w.day, minute: w.at, minutes: w.minutes, reason: w.reason })),
    }));
}
