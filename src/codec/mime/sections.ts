/**
 * IMAP part numbers and BODY[section] bytes (RFC 3501 section 6.4.5). All results
 * are slices of the parsed buffer except HEADER.FIELDS[.NOT], which is assembled
 * from the matching raw fields in their original order plus the blank line.
 * Line endings are the message's own: stored mail is CRLF, so replies are too.
 */
import { CR, LF } from './bytes.js';
import type { MimeMessage, MimePart } from './types.js';

export type SectionText = 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

export interface SectionSpec {
  /** Part number, e.g. "1.2" or [1, 2]; empty for the whole message. */
  readonly part?: string | readonly number[];
  readonly text?: SectionText;
  /** Field names for HEADER.FIELDS and HEADER.FIELDS.NOT. */
  readonly fields?: readonly string[];
}

const CRLF = Buffer.from('\r\n', 'latin1');
const LF_ONLY = Buffer.from('\n', 'latin1');

function isMultipart(p: MimePart): boolean {
  return p.contentType.type === 'multipart';
}

/** Parses "1.2.3" into numbers; null when any component is not a positive integer. */
export function parsePartNumber(path: string | readonly number[]): number[] | null {
  if (typeof path !== 'string') return path.every((n) => Number.isSafeInteger(n) && n > 0) ? [...path] : null;
  if (path === '') return [];
  const out: number[] = [];
  for (const piece of path.split('.')) {
    if (!/^[1-9][0-9]{0,8}$/.test(piece)) return null;
    out.push(Number(piece));
  }
  return out;
}

/**
 * The part with IMAP number `path` below a message root. A non-multipart message
 * has part 1 = its body; inside a message/rfc822 part, numbers continue into the
 * encapsulated message. Returns null for numbers that name no part.
 */
export function findPart(msg: MimeMessage | MimePart, path: string | readonly number[]): MimePart | null {
  const nums = parsePartNumber(path);
  const root = 'root' in msg ? msg.root : msg;
  if (nums === null || nums.length === 0) return null;
  let p = root;
  let atMessage = true; // p is a message root whose body the next number indexes
  for (const n of nums) {
    if (!atMessage && p.message) {
      p = p.message;
      atMessage = true;
    }
    if (isMultipart(p)) {
      const child = p.children[n - 1];
      if (!child) return null;
      p = child;
    } else if (!atMessage || n !== 1) return null;
    atMessage = false;
  }
  return p;
}

/** Every numbered part with its IMAP number, in order. */
export function listParts(msg: MimeMessage | MimePart): Array<{ number: string; part: MimePart }> {
  const root = 'root' in msg ? msg.root : msg;
  const out: Array<{ number: string; part: MimePart }> = [];
  // [part, number, is-message-root]
  const todo: Array<[MimePart, string, boolean]> = [[root, '', true]];
  while (todo.length > 0) {
    const [p, num, atMessage] = todo.pop()!;
    if (atMessage && !isMultipart(p)) {
      const n = num ? `${num}.1` : '1';
      out.push({ number: n, part: p });
      if (p.message) todo.push([p.message, n, true]);
      continue;
    }
    if (num && !atMessage) out.push({ number: num, part: p });
    if (!atMessage && p.message) {
      todo.push([p.message, num, true]);
      continue;
    }
    for (let i = p.children.length - 1; i >= 0; i--) todo.push([p.children[i]!, num ? `${num}.${i + 1}` : `${i + 1}`, false]);
  }
  return out;
}

function slice(msg: MimeMessage, start: number, end: number): Buffer {
  return msg.buf.subarray(start, Math.max(start, end));
}

/** BODY[n]: the part's body as sent (for message/rfc822, the whole encapsulated message). */
export function partBody(msg: MimeMessage, part: MimePart): Buffer {
  return slice(msg, part.bodyStart, part.bodyEnd);
}

/** BODY[n.MIME]: the part's own header, blank line included. */
export function partMime(msg: MimeMessage, part: MimePart): Buffer {
  return slice(msg, part.headerStart, part.bodyStart);
}

/** BODY[HEADER] of a message root (the top root, or a message/rfc822 part's `message`). */
export function messageHeader(msg: MimeMessage, root: MimePart): Buffer {
  return slice(msg, root.headerStart, root.bodyStart);
}

/** BODY[TEXT] of a message root. */
export function messageText(msg: MimeMessage, root: MimePart): Buffer {
  return slice(msg, root.bodyStart, root.bodyEnd);
}

/** BODY[HEADER.FIELDS (names)] or, with `not`, BODY[HEADER.FIELDS.NOT (names)]. */
export function headerFields(msg: MimeMessage, root: MimePart, names: readonly string[], not = false): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const pieces: Buffer[] = [];
  for (const f of root.header.fields) {
    if (wanted.has(f.name.toLowerCase()) === not) continue;
    const raw = slice(msg, f.start, f.end);
    pieces.push(raw);
    // A field cut off by the end of the data still needs its line break; a final
    // bare CR already counts as half of one (the field's value ends before it).
    const last = raw[raw.length - 1];
    if (last === CR) pieces.push(LF_ONLY);
    else if (last !== LF) pieces.push(CRLF);
  }
  // The blank line as the message writes it (CRLF when it has none).
  pieces.push(root.header.hasSeparator ? slice(msg, root.header.end, root.bodyStart) : CRLF);
  return Buffer.concat(pieces);
}

/** The bytes of BODY[section]; null when the section names no part or is not valid there. */
export function fetchSection(msg: MimeMessage, spec: SectionSpec): Buffer | null {
  const nums = parsePartNumber(spec.part ?? '');
  if (nums === null) return null;
  let target: MimePart | null = null;
  if (nums.length > 0) {
    target = findPart(msg, nums);
    if (!target) return null;
  }
  const text = spec.text;
  if (text === undefined) return target ? partBody(msg, target) : msg.buf;
  if (text === 'MIME') return target ? partMime(msg, target) : null;
  // HEADER, TEXT and HEADER.FIELDS with a number need a message/rfc822 part.
  let root: MimePart | null = msg.root;
  if (target) root = target.message;
  if (!root) return null;
  if (text === 'HEADER') return messageHeader(msg, root);
  if (text === 'TEXT') return messageText(msg, root);
  return headerFields(msg, root, spec.fields ?? [], text === 'HEADER.FIELDS.NOT');
}
