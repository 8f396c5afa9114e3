/** Grammar pieces shared by several commands: flags, sequence sets, status items, dates. */
import type { StatusItem } from '../ast.js';
import { type Cursor, isAtomChar, isDigit, utf8 } from '../cursor.js';
import { parseImapDate, parseImapDateTime, type ImapDate, type ImapDateTime } from '../date.js';
import { fail } from '../errors.js';
import { parseSequenceSet, type SequenceSet } from '../seqset.js';

const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\Recent'];
const SYSTEM_BY_LOWER = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

/** Puts system flags in their canonical case; keywords and other "\" flags are kept as written. */
export function canonicalFlag(flag: string): string {
  return SYSTEM_BY_LOWER.get(flag.toLowerCase()) ?? flag;
}

/** flag: "\" atom or a keyword atom. */
export function flag(c: Cursor): string {
  const backslash = c.tryChar(0x5c);
  const name = c.atom();
  return backslash ? canonicalFlag(`\\${name}`) : name;
}

/** flag-list: "(" [flag *(SP flag)] ")". */
export function flagList(c: Cursor): string[] {
  return c.list(() => flag(c));
}

const isSeqChar = (b: number): boolean => isDigit(b) || b === 0x3a || b === 0x2a || b === 0x2c || b === 0x24;

export function sequenceSet(c: Cursor): SequenceSet {
  const text = c.chars(isSeqChar, 'sequence set');
  const set = parseSequenceSet(text);
  if (!set) fail(`Invalid sequence set "${text.slice(0, 40)}"`);
  return set;
}

export const STATUS_ITEMS: readonly StatusItem[] = ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'HIGHESTMODSEQ'];

export function statusItem(c: Cursor): StatusItem {
  const w = c.word('status item');
  if (!(STATUS_ITEMS as readonly string[]).includes(w)) fail(`Unknown status item ${w.slice(0, 40)}`);
  return w as StatusItem;
}

export function statusItems(c: Cursor): StatusItem[] {
  return c.list(() => statusItem(c), false);
}

/** date: date-text or the same in double quotes. */
export function searchDate(c: Cursor): ImapDate {
  const text = c.peek() === 0x22 ? c.quoted().toString('latin1') : c.chars(isAtomChar, 'date');
  const d = parseImapDate(text);
  if (!d) fail(`Invalid date "${text.slice(0, 40)}"`);
  return d;
}

/** date-time: always quoted. */
export function dateTime(c: Cursor): ImapDateTime {
  const text = c.quoted().toString('latin1');
  const d = parseImapDateTime(text);
  if (!d) fail(`Invalid date-time "${text.slice(0, 40)}"`);
  return d;
}

/** mod-sequence-value: 1..2^63-1. */
export function modseq(c: Cursor): bigint {
  const n = c.number64();
  if (n === 0n) fail('Mod-sequence must not be zero');
  return n;
}

/** A charset name: atom or quoted string, upper-cased. */
export function charset(c: Cursor): string {
  const raw = c.peek() === 0x22 ? utf8(c.quoted(), 'charset') : c.atom();
  return raw.toUpperCase();
}
