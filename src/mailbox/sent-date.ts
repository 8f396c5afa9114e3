/**
 * The sent date of RFC 5256 section 2.2: the Date field as a UTC instant,
 * for SORT DATE and THREAD. Only the first SCAN characters are looked at, so
 * the regular expression never runs over a long value.
 */

const SCAN = 200;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** RFC 5322 4.3 obsolete zones, in minutes east of UTC (military letters count as +0000, as that section says). */
const ZONES: Record<string, number> = { ut: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420 };
const DATE = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?\s*(?:([+-])(\d{2})(\d{2})|([A-Za-z]{1,5}))?/;

/** Milliseconds since the epoch of an RFC 5322 date-time, or null when it cannot be read. */
export function parseSentDate(value: string): number | null {
  const m = DATE.exec(value.length > SCAN ? value.slice(0, SCAN) : value);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year >= 50 ? 1900 : 2000;
  else if (m[3]!.length === 3) year += 1900;
  const day = Number(m[1]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let offset = 0;
  if (m[7] !== undefined) {
    offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  } else if (m[10] !== undefined) {
    offset = ZONES[m[10].toLowerCase()] ?? 0;
  }
  const t = Date.UTC(year, month, day, hour, minute, second) - offset * 60_000;
  return Number.isFinite(t) ? t : null;
}
