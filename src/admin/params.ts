/**
 * Query parameters of /api/v1, validated with zod: each bad one is named with
 * its reason (400), unknown or repeated ones are refused, limits are bounded.
 */
import { z } from 'zod';
import { eventSpec } from '../metrics/events.js';

export const MAX_EVENTS = 1000;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_SPAN_MS = 3660 * 86_400_000;

/** "90s", "15m", "12h", "7d", "2w" (back from now), an ISO 8601 date or date-time, or Unix milliseconds. */
export function parseSince(v: string, now: number): number | null {
  const rel = /^(\d{1,6})([smhdw])$/.exec(v);
  if (rel) {
    const ms = Number(rel[1]) * UNIT_MS[rel[2]!]!;
    return ms <= MAX_SPAN_MS ? now - ms : null;
  }
  if (/^\d{1,15}$/.test(v)) return Number(v);
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

const since = (now: number, fallback: string) =>
  z
    .string()
    .max(40, 'is too long')
    .default(fallback)
    .transform((v, ctx) => {
      const t = parseSince(v, now);
      if (t === null) {
        ctx.addIssue({ code: 'custom', message: 'expected a span back from now ("15m", "12h", "7d", "2w"), an ISO 8601 date or Unix milliseconds' });
        return z.NEVER;
      }
      return t;
    });

export const eventsQuery = (now: number) =>
  z.strictObject(
    {
      kind: z
        .string()
        .max(64, 'is too long')
        .refine((k) => eventSpec(k) !== undefined, { message: 'is not a known event kind (see /api/v1/event-kinds)' })
        .optional(),
      since: since(now, '1d'),
      limit: z
        .string()
        .regex(/^\d{1,4}$/, `expected a whole number from 1 to ${MAX_EVENTS}`)
        .transform(Number)
        .refine((n) => n >= 1 && n <= MAX_EVENTS, `expected a whole number from 1 to ${MAX_EVENTS}`)
        .default(100),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown parameter${iss.keys.length > 1 ? 's' : ''} ${iss.keys.join(', ')}` : undefined) },
  );

export const deliveryTimesQuery = (now: number) =>
  z.strictObject(
    { since: since(now, '1d') },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown parameter${iss.keys.length > 1 ? 's' : ''} ${iss.keys.join(', ')}` : undefined) },
  );

export const noQuery = z.strictObject({}, { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown parameter${iss.keys.length > 1 ? 's' : ''} ${iss.keys.join(', ')}` : undefined) });

/** One message per bad parameter: "limit: expected a whole number from 1 to 1000". */
export function describeIssues(err: z.ZodError): string[] {
  return err.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
}
