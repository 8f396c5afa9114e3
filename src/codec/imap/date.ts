/** IMAP dates (SEARCH SINCE 1-Feb-1994) and date-times (APPEND, INTERNALDATE). */

export interface ImapDate {
  readonly year: number;
  /** 1..12 */
  readonly month: number;
  readonly day: number;
}

export interface ImapDateTime {
  readonly date: Date;
  /** The zone the client wrote, in minutes east of UTC ("-0700" is -420). */
  readonly zoneMinutes: number;
}

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function monthIndex(s: string): number {
  const lower = s.toLowerCase();
  return MONTHS.findIndex((m) => m.toLowerCase() === lower);
}

/** Date.UTC, but years 0..99 stay themselves (Date.UTC reads them as 1900..1999). */
function utc(year: number, month0: number, day: number, h = 0, m = 0, s = 0): number {
  const d = new Date(Date.UTC(2000, month0, day, h, m, s));
  d.setUTCFullYear(year, month0, day);
  return d.getTime();
}

function daysIn(year: number, month: number): number {
  return new Date(utc(year, month, 0)).getUTCDate();
}

/** "1-Feb-1994" (date-text, unquoted); null when invalid. */
export function parseImapDate(text: string): ImapDate | null {
  const m = /^([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})$/.exec(text);
  if (!m) return null;
  const day = Number(m[1]);
  const month = monthIndex(m[2]!) + 1;
  const year = Number(m[3]);
  if (month === 0 || day < 1 || day > daysIn(year, month)) return null;
  return { year, month, day };
}

/** "17-Jul-1996 02:44:25 -0700" (date-time without quotes; a leading space for the day is allowed); null when invalid. */
export function parseImapDateTime(text: string): ImapDateTime | null {
  const m = /^([ 0-9][0-9])-([A-Za-z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})$/.exec(text);
  if (!m) return null;
  const day = Number(m[1]!.trim());
  const month = monthIndex(m[2]!) + 1;
  const year = Number(m[3]);
  const [hh, mm, ss, zh, zm] = [m[4], m[5], m[6], m[8], m[9]].map(Number) as [number, number, number, number, number];
  if (month === 0 || day < 1 || day > daysIn(year, month)) return null;
  if (hh > 23 || mm > 59 || ss > 60 || zm > 59) return null;
  const zoneMinutes = (m[7] === '-' ? -1 : 1) * (zh * 60 + zm);
  const at = utc(year, month - 1, day, hh, mm, Math.min(ss, 59)) - zoneMinutes * 60_000;
  return { date: new Date(at), zoneMinutes };
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** INTERNALDATE text, without quotes: "07-Jul-1996 02:44:25 -0700", shown in the given zone. */
export function formatInternalDate(date: Date, zoneMinutes = 0): string {
  const t = new Date(date.getTime() + zoneMinutes * 60_000);
  const sign = zoneMinutes < 0 ? '-' : '+';
  const z = Math.abs(zoneMinutes);
  return (
    `${pad2(t.getUTCDate())}-${MONTHS[t.getUTCMonth()]}-${String(t.getUTCFullYear()).padStart(4, '0')} ` +
    `${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}:${pad2(t.getUTCSeconds())} ${sign}${pad2(Math.floor(z / 60))}${pad2(z % 60)}`
  );
}

/** The date-text form of a date: "1-Feb-1994". */
export function formatImapDate(d: ImapDate): string {
  return `${d.day}-${MONTHS[d.month - 1]}-${String(d.year).padStart(4, '0')}`;
}

/** Compares a SEARCH date with a timestamp's calendar day in the given zone: negative, 0 or positive. */
export function compareDay(d: ImapDate, at: Date, zoneMinutes = 0): number {
  const t = new Date(at.getTime() + zoneMinutes * 60_000);
  const a = d.year * 10000 + d.month * 100 + d.day;
  const b = t.getUTCFullYear() * 10000 + (t.getUTCMonth() + 1) * 100 + t.getUTCDate();
  return a - b;
}
