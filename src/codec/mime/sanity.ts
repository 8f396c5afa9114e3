/**
 * Quick structural checks for a message arriving over SMTP. Returns what is wrong
 * as data; the intake policy decides what to reject, repair or just log.
 */
import { asBuffer, contentEnd, lineEnd } from './bytes.js';
import { getFields, parseHeaderSection } from './header.js';
import type { HeaderLimits } from './types.js';

export type SanityCode =
  | 'no-separator'
  | 'header-line-too-long'
  | 'header-malformed'
  | 'header-too-large'
  | 'nul-byte'
  | 'from-count'
  | 'date-missing'
  | 'date-duplicate';

export interface SanityProblem {
  readonly code: SanityCode;
  /** Byte offset of the first occurrence. */
  readonly offset: number;
  /** How many times it occurs (lines, bytes or fields, by code; malformed lines are counted up to 64). */
  readonly count: number;
  readonly detail: string;
}

/** RFC 5322 section 2.1.1: at most 998 octets before CRLF. */
export const MAX_LINE_OCTETS = 998;

export function checkMessage(input: Uint8Array, limits: HeaderLimits = {}): SanityProblem[] {
  const buf = asBuffer(input);
  const out: SanityProblem[] = [];
  const header = parseHeaderSection(buf, limits);
  if (header.truncated) {
    const d = header.defects.find((x) => x.code === 'header-too-large' || x.code === 'header-too-many-fields');
    out.push({ code: 'header-too-large', offset: d?.offset ?? header.end, count: 1, detail: d?.detail ?? 'header over the limit' });
  } else if (!header.hasSeparator) {
    out.push({ code: 'no-separator', offset: header.end, count: 1, detail: 'no empty line between header and body' });
  }
  const malformed = header.defects.filter((d) => d.code === 'header-no-colon' || d.code === 'header-bad-name' || d.code === 'header-orphan-continuation');
  if (malformed.length > 0) {
    out.push({ code: 'header-malformed', offset: malformed[0]!.offset, count: malformed.length, detail: 'header lines that are not fields' });
  }
  let longFirst = -1;
  let longCount = 0;
  for (let pos = header.start; pos < header.bodyStart; ) {
    const le = lineEnd(buf, pos, header.bodyStart);
    if (contentEnd(buf, pos, le) - pos > MAX_LINE_OCTETS) {
      if (longFirst < 0) longFirst = pos;
      longCount++;
    }
    pos = le;
  }
  if (longCount > 0) out.push({ code: 'header-line-too-long', offset: longFirst, count: longCount, detail: `header lines over ${MAX_LINE_OCTETS} octets` });
  let nulFirst = -1;
  let nulCount = 0;
  for (let i = buf.indexOf(0); i >= 0; i = buf.indexOf(0, i + 1)) {
    if (nulFirst < 0) nulFirst = i;
    nulCount++;
  }
  if (nulCount > 0) out.push({ code: 'nul-byte', offset: nulFirst, count: nulCount, detail: 'NUL bytes in the message' });
  const from = getFields(header.fields, 'From');
  if (from.length !== 1) {
    out.push({ code: 'from-count', offset: from[1]?.start ?? header.end, count: from.length, detail: `${from.length} From fields, RFC 5322 requires exactly 1` });
  }
  const date = getFields(header.fields, 'Date');
  if (date.length === 0) out.push({ code: 'date-missing', offset: header.end, count: 0, detail: 'no Date field' });
  else if (date.length > 1) out.push({ code: 'date-duplicate', offset: date[1]!.start, count: date.length, detail: `${date.length} Date fields` });
  return out;
}
