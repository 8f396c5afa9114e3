/**
 * Header section scanner (RFC 5322 section 2.2). Keeps every field's raw bytes and
 * offsets so callers can hand out exact slices; never throws on bad input.
 */
import { asBuffer, contentEnd, CR, HT, LF, lineEnd, SP, utf8OrLatin1 } from './bytes.js';
import type { DefectCode, HeaderField, HeaderLimits, HeaderSection, MimeDefect } from './types.js';

export const DEFAULT_MAX_HEADER_BYTES = 512 * 1024;
export const DEFAULT_MAX_HEADER_FIELDS = 5000;
/** Bad-line defects kept per header section; a header of junk lines would otherwise make one per line. */
export const MAX_LINE_DEFECTS = 64;

export interface HeaderScanOptions extends HeaderLimits {
  /** Where the header starts (default 0). */
  readonly start?: number;
  /** Where the region ends (default the buffer's length). */
  readonly end?: number;
  /**
   * Lists only the fields whose name this accepts (as written); the others
   * are still scanned and counted against the limits, so the section ends
   * where it would and the fields listed are those a full scan lists, but
   * their values are not built (a reader of a few fields skips the rest).
   */
  readonly keep?: (name: string) => boolean;
}

/** Finds the end of the header section and lists its fields in order. */
export function parseHeaderSection(buf: Uint8Array, options: HeaderScanOptions = {}): HeaderSection {
  const b = asBuffer(buf);
  const start = clamp(options.start ?? 0, 0, b.length);
  const end = clamp(options.end ?? b.length, start, b.length);
  return scanHeader(b, start, end, options, undefined, options.keep);
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(Math.max(Math.trunc(n) || 0, lo), hi);
}

interface OpenField {
  nameEnd: number;
  valueStart: number;
  start: number;
  end: number;
  name: string;
  /** A continuation line extended it. */
  folded: boolean;
}

/**
 * Scans header lines from `start`. `stopAt(lineStart)` lets a multipart parser end a
 * part's header at a boundary line when the blank line is missing.
 */
export function scanHeader(
  buf: Buffer,
  start: number,
  end: number,
  limits: HeaderLimits,
  stopAt?: (lineStart: number) => boolean,
  keep?: (name: string) => boolean,
): HeaderSection {
  const maxBytes = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const maxFields = limits.maxHeaderFields ?? DEFAULT_MAX_HEADER_FIELDS;
  const fields: HeaderField[] = [];
  const defects: MimeDefect[] = [];
  let badLines = 0;
  const badLine = (code: DefectCode, offset: number): void => {
    if (badLines++ < MAX_LINE_DEFECTS) defects.push({ code, offset });
  };
  let open: OpenField | null = null;
  /** Fields ended so far, listed or not (see HeaderScanOptions.keep). */
  let count = 0;
  const close = (): void => {
    if (!open) return;
    count++;
    if (!keep || keep(open.name)) fields.push(makeField(buf, open));
    open = null;
  };
  // After a line that is not a field, its continuation lines belong to no field.
  let junk = false;
  let pos = start;
  const finish = (fieldsEnd: number, bodyStart: number, hasSeparator: boolean, truncated: boolean): HeaderSection => {
    close();
    if (!hasSeparator && !truncated) defects.push({ code: 'header-no-separator', offset: fieldsEnd });
    return { fields, start, end: fieldsEnd, bodyStart, hasSeparator, truncated, defects };
  };
  while (pos < end) {
    const le = lineEnd(buf, pos, end);
    const first = buf[pos];
    if (first === LF || (first === CR && buf[pos + 1] === LF && le === pos + 2)) {
      return finish(pos, le, true, false);
    }
    if (stopAt && first === 0x2d && stopAt(pos)) return finish(pos, pos, false, false);
    if (le - start > maxBytes) {
      defects.push({ code: 'header-too-large', offset: pos, detail: `over ${maxBytes} bytes` });
      return finish(pos, pos, false, true);
    }
    if (first === SP || first === HT) {
      if (open) {
        open.end = le;
        open.folded = true;
      }
      else if (!junk) {
        badLine('header-orphan-continuation', pos);
        junk = true;
      }
      pos = le;
      continue;
    }
    const lineContentEnd = contentEnd(buf, pos, le);
    // Search this line only: an unbounded indexOf would scan the rest of the
    // message for every colon-less line (quadratic on a header of junk lines).
    // A loop, not a view and indexOf: the colon ends a field name a few bytes in.
    let colon = -1;
    for (let i = pos; i < lineContentEnd; i++) {
      if (buf[i] === 0x3a) {
        colon = i;
        break;
      }
    }
    if (colon < 0) {
      badLine('header-no-colon', pos);
      close();
      junk = true;
      pos = le;
      continue;
    }
    let nameEnd = colon;
    while (nameEnd > pos && (buf[nameEnd - 1] === SP || buf[nameEnd - 1] === HT)) nameEnd--;
    close();
    if (!validName(buf, pos, nameEnd)) {
      badLine('header-bad-name', pos);
      junk = true;
      pos = le;
      continue;
    }
    if (count >= maxFields) {
      defects.push({ code: 'header-too-many-fields', offset: pos, detail: `over ${maxFields} fields` });
      return finish(pos, pos, false, true);
    }
    junk = false;
    open = { start: pos, end: le, nameEnd, valueStart: colon + 1, name: buf.toString('latin1', pos, nameEnd), folded: false };
    pos = le;
  }
  return finish(end, end, false, false);
}

function validName(buf: Buffer, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 33 || c > 126) return false;
  }
  return true;
}

function makeField(buf: Buffer, f: OpenField): HeaderField {
  // A field of one line (most) is known to be one: its line end is not looked for again.
  const value = f.folded ? unfold(buf, f.valueStart, f.end) : oneLine(buf, f.valueStart, f.end);
  return { name: f.name, value, start: f.start, end: f.end, raw: buf.subarray(f.start, f.end) };
}

/** The value of one line (from `start` to its line break or `end`), trimmed; decoded from the buffer in place. */
function oneLine(buf: Buffer, start: number, end: number): string {
  return trimWsp(utf8OrLatin1(buf, start, contentEnd(buf, start, end)));
}

/** Joins the field's lines without their line breaks and trims outer white space. */
export function unfold(buf: Buffer, start: number, end: number): string {
  // One line (most fields): decoded from the buffer in place, no views or joins.
  if (lineEnd(buf, start, end) === end) return oneLine(buf, start, end);
  const parts: Buffer[] = [];
  let pos = start;
  while (pos < end) {
    const le = lineEnd(buf, pos, end);
    parts.push(buf.subarray(pos, contentEnd(buf, pos, le)));
    pos = le;
  }
  const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return trimWsp(utf8OrLatin1(joined));
}

/** Trims spaces and tabs (a regex here would be quadratic on long runs of blanks). */
export function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === SP || s.charCodeAt(a) === HT)) a++;
  while (b > a && (s.charCodeAt(b - 1) === SP || s.charCodeAt(b - 1) === HT)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** All fields named `name` (case-insensitive), in order. */
export function getFields(fields: readonly HeaderField[], name: string): HeaderField[] {
  const n = name.toLowerCase();
  return fields.filter((f) => f.name.toLowerCase() === n);
}

/** The first field named `name`, or null. */
export function getField(fields: readonly HeaderField[], name: string): HeaderField | null {
  const n = name.toLowerCase();
  for (const f of fields) if (f.name.toLowerCase() === n) return f;
  return null;
}

/** The unfolded value of the first field named `name`, or null. */
export function headerValue(fields: readonly HeaderField[], name: string): string | null {
  return getField(fields, name)?.value ?? null;
}
