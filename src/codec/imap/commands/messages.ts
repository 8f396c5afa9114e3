/** Commands that add, change or move messages: APPEND, STORE, COPY, MOVE, EXPUNGE. */
import type { AppendMessage, CatenatePart, ImapCommand } from '../ast.js';
import { utf8, type Cursor } from '../cursor.js';
import type { ImapDateTime } from '../date.js';
import { fail } from '../errors.js';
import { dateTime, flag, flagList, sequenceSet } from './common.js';

/** Parts of one CATENATE message, RFC 4469 (an IMAP URL is refused later, when it is resolved). */
export const MAX_CATENATE_PARTS = 50;

/** "CATENATE" SP "(" cat-part *(SP cat-part) ")", cat-part = "TEXT" SP literal / "URL" SP astring. */
function catenateParts(c: Cursor): CatenatePart[] {
  c.sp();
  c.expect(0x28, '"("');
  const parts: CatenatePart[] = [];
  do {
    if (parts.length >= MAX_CATENATE_PARTS) fail(`At most ${MAX_CATENATE_PARTS} CATENATE parts`);
    const kind = c.atom().toUpperCase();
    c.sp();
    if (kind === 'TEXT') {
      const { data, binary } = c.literal({ binary: true, nul: true });
      parts.push({ type: 'TEXT', data, binary });
    } else if (kind === 'URL') {
      parts.push({ type: 'URL', url: utf8(c.astring(), 'URL') });
    } else {
      fail('Expected TEXT or URL');
    }
  } while (c.tryChar(0x20));
  c.expect(0x29, '")"');
  return parts;
}

/** [flag-list SP] [date-time SP] (literal / literal8 / "UTF8" SP "(" literal8 ")" / CATENATE parts) */
function appendMessage(c: Cursor): AppendMessage {
  let flags: string[] = [];
  let date: ImapDateTime | null = null;
  if (c.peek() === 0x28) {
    flags = flagList(c);
    c.sp();
  }
  if (c.peek() === 0x22) {
    date = dateTime(c);
    c.sp();
  }
  // RFC 6855 4: a message with UTF-8 header fields, always as literal8. postern
  // stores every message's bytes as they are, so it is taken like any other.
  if (c.tryWord('UTF8')) {
    c.sp();
    c.expect(0x28, '"("');
    if (c.peek() !== 0x7e) fail('UTF8 data must be a literal8');
    const { data } = c.literal({ binary: true, nul: true });
    c.expect(0x29, '")"');
    return { flags, date, data, binary: true };
  }
  const b = c.peek();
  if (b === 0x43 || b === 0x63) {
    if (c.atom().toUpperCase() !== 'CATENATE') fail('Expected message literal');
    return { flags, date, data: Buffer.alloc(0), binary: false, catenate: catenateParts(c) };
  }
  if (b !== 0x7b && b !== 0x7e) fail('Expected message literal');
  // Messages may carry NUL in a plain literal; the store keeps bytes as they are.
  const { data, binary } = c.literal({ binary: true, nul: true });
  return { flags, date, data, binary };
}

/** APPEND SP mailbox SP message *(SP message) (MULTIAPPEND, RFC 3502). */
export function parseAppend(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const mailbox = c.mailbox();
  const messages: AppendMessage[] = [];
  do {
    c.sp();
    messages.push(appendMessage(c));
  } while (!c.atEnd());
  return { tag, name: 'APPEND', mailbox, messages };
}

/** STORE SP sequence-set [SP "(" UNCHANGEDSINCE n ")"] SP ["+"/"-"] FLAGS[.SILENT] SP (flag-list / flag *(SP flag)). */
export function parseStore(c: Cursor, tag: string, uid: boolean): ImapCommand {
  c.sp();
  const set = sequenceSet(c);
  c.sp();
  let unchangedSince: bigint | null = null;
  if (c.peek() === 0x28) {
    c.list(() => {
      const w = c.word('STORE modifier');
      if (w !== 'UNCHANGEDSINCE') fail(`Unknown STORE modifier ${w.slice(0, 40)}`);
      c.sp();
      unchangedSince = c.number64();
    }, false);
    c.sp();
  }
  let operation: 'set' | 'add' | 'remove' = 'set';
  if (c.tryChar(0x2b)) operation = 'add';
  else if (c.tryChar(0x2d)) operation = 'remove';
  const item = c.word('FLAGS');
  if (item !== 'FLAGS' && item !== 'FLAGS.SILENT') fail('Expected FLAGS or FLAGS.SILENT');
  c.sp();
  let flags: string[];
  if (c.peek() === 0x28) {
    flags = flagList(c);
  } else {
    flags = [flag(c)];
    while (c.trySp()) flags.push(flag(c));
  }
  c.end();
  return { tag, name: 'STORE', uid, set, operation, silent: item === 'FLAGS.SILENT', flags, unchangedSince };
}

export function parseCopyMove(c: Cursor, tag: string, name: 'COPY' | 'MOVE', uid: boolean): ImapCommand {
  c.sp();
  const set = sequenceSet(c);
  c.sp();
  const mailbox = c.mailbox();
  c.end();
  return { tag, name, uid, set, mailbox };
}

/** EXPUNGE, or UID EXPUNGE SP sequence-set (UIDPLUS, RFC 4315). */
export function parseExpunge(c: Cursor, tag: string, uid: boolean): ImapCommand {
  if (!uid) {
    c.end();
    return { tag, name: 'EXPUNGE', uid: false };
  }
  c.sp();
  const set = sequenceSet(c);
  c.end();
  return { tag, name: 'EXPUNGE', uid: true, set };
}
