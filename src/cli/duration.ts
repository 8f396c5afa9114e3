import { UsageError } from './context.js';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `--since`: `7d`, `12h`, `30m`, `2w` before now, or a UTC date `YYYY-MM-DD`; milliseconds. */
export function parseSince(text: string, now: number): number {
  const rel = /^(\d{1,5})([mhdw])$/.exec(text.trim());
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2]!]!;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const t = Date.parse(`${text}T00:00:00Z`);
    if (!Number.isNaN(t)) return t;
  }
  throw new UsageError(`--since takes a duration like 7d, 12h, 30m, 2w or a date YYYY-MM-DD, not ${JSON.stringify(text)}`);
}
