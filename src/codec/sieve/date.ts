/** RFC 5260 date parts. Times are computed in a fixed zone offset (minutes east of UTC). */

export const DATE_PARTS: readonly string[] = ['year', 'month', 'day', 'date', 'julian', 'hour', 'minute', 'second', 'time', 'iso8601', 'std11', 'zone', 'weekday'];

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** "+0100" / "-0530" as minutes, or null. */
export function zoneOffset(z: string): number | null {
  if (z.length !== 5 || (z[0] !== '+' && z[0] !== '-')) return null;
  const hh = Number(z.slice(1, 3));
  const mm = Number(z.slice(3, 5));
  if (!/^[0-9]{4}$/.test(z.slice(1)) || hh > 23 || mm > 59) return null;
  return (z[0] === '-' ? -1 : 1) * (hh * 60 + mm);
}

function zoneText(min: number): string {
  const a = Math.abs(min);
  return `${min < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

/** An RFC 5322 date (cut at 200 chars) as milliseconds and its own zone, or null. */
export function parseDateHeader(v: string): { ms: number; zone: number } | null {
  const s = v.slice(0, 200).replace(/\([^()]*\)/g, ' ').trim();
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) return null;
  const parts = s.split(/\s+/);
  const last = parts[parts.length - 1] ?? '';
  const zone = zoneOffset(last) ?? 0;
  return { ms, zone };
}

export function datePart(ms: number, zone: number, part: string): string {
  const d = new Date(ms + zone * 60_000);
  const Y = d.getUTCFullYear();
  const M = d.getUTCMonth();
  const D = d.getUTCDate();
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  switch (part) {
    case 'year':
      return pad(Y, 4);
    case 'month':
      return pad(M + 1);
    case 'day':
      return pad(D);
    case 'date':
      return `${pad(Y, 4)}-${pad(M + 1)}-${pad(D)}`;
    case 'julian':
      // Modified Julian Day: days since 1858-11-17
      return String(Math.floor(Date.UTC(Y, M, D) / 86_400_000) + 40_587);
    case 'hour':
      return pad(d.getUTCHours());
    case 'minute':
      return pad(d.getUTCMinutes());
    case 'second':
      return pad(d.getUTCSeconds());
    case 'time':
      return time;
    case 'iso8601': {
      const z = zone === 0 ? 'Z' : `${zoneText(zone).slice(0, 3)}:${zoneText(zone).slice(3)}`;
      return `${pad(Y, 4)}-${pad(M + 1)}-${pad(D)}T${time}${z}`;
    }
    case 'std11':
      return `${DAYS[d.getUTCDay()]}, ${D} ${MONTHS[M]} ${Y} ${time} ${zoneText(zone)}`;
    case 'zone':
      return zoneText(zone);
    case 'weekday':
      return String(d.getUTCDay());
    default:
      return '';
  }
}
