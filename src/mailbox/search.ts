/**
 * SEARCH criteria (RFC 9051 section 6.4.4) evaluated over one message at a
 * time. Evaluation is three-valued: a criterion about headers or body text
 * answers `undefined` until a source of the message's text is supplied, and a
 * source may itself answer `undefined` for what it does not hold (the header
 * cache holds no body text), so the caller reads and parses a message only
 * when its flags, UID, size, dates and cached header data have not already
 * decided the answer.
 *
 * Text matching is a case-insensitive substring test over decoded text:
 * header fields with RFC 2047 words decoded, bodies with their transfer
 * encoding undone and converted from their charset.
 */
import {
  compareDay,
  inSequenceSet,
  type ImapDate,
  type SearchKey,
} from '../codec/imap/index.js';
import {
  decodeEncodedWords,
  decodePartText,
  listParts,
  type HeaderField,
  type MimeMessage,
  type MimePart,
} from '../codec/mime/index.js';
import { plainAddresses } from './plain-address.js';
import { includesLinear } from './substring.js';

/** What evaluation may read about a message without its content. */
export interface SearchCandidate {
  readonly seq: number;
  readonly uid: number;
  readonly flags: readonly string[];
  readonly modseq: number;
  /** Needed only when the criteria ask for it (see planSearch). */
  readonly size?: number;
  readonly internalDate?: number;
}

export interface SearchScope {
  /** Messages in the folder (for "*" in sequence sets). */
  readonly exists: number;
  /** Highest UID in the folder (for "*" in UID sets). */
  readonly maxUid: number;
  /** UIDs saved by SEARCH RETURN (SAVE), for "$"; null when none saved. */
  readonly saved: ReadonlySet<number> | null;
}

export interface SearchPlan {
  /** Size or internal date is needed. */
  readonly meta: boolean;
  /** Headers or body are needed for some messages. */
  readonly content: boolean;
  /** The criteria use MODSEQ (the SEARCH response then carries the highest one matched). */
  readonly modseq: boolean;
  /** Header fields the criteria name (lower-cased): FROM, TO, CC, BCC, SUBJECT and HEADER keys. */
  readonly fields: readonly string[];
  /** TEXT is used: the whole header section may be needed. */
  readonly allHeaders: boolean;
  /** BODY or TEXT is used: the body text may be needed. */
  readonly body: boolean;
}

/**
 * A message's text as SEARCH sees it: header fields with RFC 2047 words
 * decoded, bodies decoded, compared case-insensitively. Any answer may be
 * `undefined`, meaning this source cannot tell; the caller then supplies a
 * fuller one.
 */
export interface SearchText {
  /** Whether the message has a field named `name`. */
  hasHeader(name: string): boolean | undefined;
  /** Whether some field named `name` contains `needle`. */
  headerContains(name: string, needle: string): boolean | undefined;
  /** Whether the header section ("name: value" lines) contains `needle`. */
  headersContain(needle: string): boolean | undefined;
  /** Whether the text of the body contains `needle`. */
  bodyContains(needle: string): boolean | undefined;
  /** The first Date field's calendar day as written; null when there is none or it is unusable. */
  sentDate(): ImapDate | null | undefined;
}

const CONTENT_KEYS = new Set(['BCC', 'BODY', 'CC', 'FROM', 'SUBJECT', 'TEXT', 'TO', 'HEADER', 'SENTBEFORE', 'SENTON', 'SENTSINCE']);
const META_KEYS = new Set(['BEFORE', 'ON', 'SINCE', 'LARGER', 'SMALLER']);

const FIELD_KEYS = new Set(['BCC', 'CC', 'FROM', 'SUBJECT', 'TO']);

/** Which data the criteria need. */
export function planSearch(keys: readonly SearchKey[]): SearchPlan {
  let meta = false;
  let content = false;
  let modseq = false;
  let allHeaders = false;
  let body = false;
  const fields = new Set<string>();
  const visit = (k: SearchKey): void => {
    if (FIELD_KEYS.has(k.key)) fields.add(k.key.toLowerCase());
    else if (k.key === 'HEADER') fields.add(k.field.toLowerCase());
    else if (k.key === 'TEXT') allHeaders = body = true;
    else if (k.key === 'BODY') body = true;
    if (CONTENT_KEYS.has(k.key)) content = true;
    else if (META_KEYS.has(k.key)) meta = true;
    else if (k.key === 'MODSEQ') modseq = true;
    else if (k.key === 'NOT') visit(k.operand);
    else if (k.key === 'OR') {
      visit(k.left);
      visit(k.right);
    } else if (k.key === 'AND') k.operands.forEach(visit);
  };
  keys.forEach(visit);
  return { meta, content, modseq, fields: [...fields], allHeaders, body };
}

/** Largest text taken from one part for BODY/TEXT searches. */
const MAX_PART_TEXT = 8 * 1024 * 1024;

/** Fields that hold address lists (RFC 5322 3.6.2, 3.6.3). */
const ADDRESS_FIELDS = new Set(['from', 'sender', 'reply-to', 'to', 'cc', 'bcc']);

/** Decoded, lower-cased text of one header section's fields, computed on first use. */
export class HeaderText {
  private byName = new Map<string, string | null>();
  private all: string | null = null;
  /** The fields' names lower-cased, on first use (a search part looks up six names). */
  private names: string[] | null = null;

  constructor(readonly fields: readonly HeaderField[]) {}

  private lowerNames(): string[] {
    this.names ??= this.fields.map((f) => f.name.toLowerCase());
    return this.names;
  }

  /** Values of every field named `name`, decoded, joined by newlines, lower-cased; null when absent. */
  header(name: string): string | null {
    const n = name.toLowerCase();
    let text = this.byName.get(n);
    if (text === undefined) {
      const names = this.lowerNames();
      const raw: string[] = [];
      for (let i = 0; i < names.length; i++) if (names[i] === n) raw.push(this.fields[i]!.value);
      const values = raw.map((v) => decodeEncodedWords(v));
      // Addresses also in their plain form, so "user@domain" finds one written with comments or folding inside.
      if (ADDRESS_FIELDS.has(n)) values.push(...raw.map(plainAddresses));
      text = values.length === 0 ? null : values.join('\n').toLowerCase();
      this.byName.set(n, text);
    }
    return text;
  }

  /** Every field as "name: value", decoded. */
  headers(): string {
    this.all ??= headerText(this.fields);
    return this.all;
  }

  /** The first Date field's calendar day as written, or null. */
  sentDate(): ImapDate | null {
    const i = this.lowerNames().indexOf('date');
    return i < 0 ? null : parseHeaderDate(this.fields[i]!.value);
  }
}

/** Decoded, lower-cased text of one parsed message, computed on first use: answers everything. */
export class SearchContent extends HeaderText implements SearchText {
  private bodyText: string | null = null;

  constructor(readonly message: MimeMessage) {
    super(message.root.header.fields);
  }

  /** The text of every text part (and the headers of attached messages), decoded. */
  body(): string {
    this.bodyText ??= bodyText(this.message);
    return this.bodyText;
  }

  hasHeader(name: string): boolean {
    return this.header(name) !== null;
  }

  headerContains(name: string, needle: string): boolean {
    return contains(this.header(name), needle);
  }

  headersContain(needle: string): boolean {
    return contains(this.headers(), needle);
  }

  bodyContains(needle: string): boolean {
    return contains(this.body(), needle);
  }
}

function headerText(fields: readonly HeaderField[]): string {
  return fields.map((f) => `${f.name}: ${decodeEncodedWords(f.value)}`).join('\n').toLowerCase();
}

function bodyText(msg: MimeMessage): string {
  const pieces: string[] = [];
  for (const { part } of listParts(msg)) {
    if (part.message) pieces.push(headerText(part.message.header.fields));
    if (isTextLeaf(part)) pieces.push(decodePartText(msg, part, MAX_PART_TEXT));
  }
  // A message without MIME structure still has a body under its header.
  if (pieces.length === 0 && isTextLeaf(msg.root)) pieces.push(decodePartText(msg, msg.root, MAX_PART_TEXT));
  return pieces.join('\n').toLowerCase();
}

function isTextLeaf(part: MimePart): boolean {
  return part.contentType.type === 'text' && part.children.length === 0;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The day, month and year of an RFC 5322 date ("Tue, 1 Jul 2003 10:52:37 +0200"), time and zone ignored. */
export function parseHeaderDate(value: string): ImapDate | null {
  const m = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{2,4})/.exec(value);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase()) + 1;
  let year = Number(m[3]);
  // RFC 5322 4.3: two-digit years are 19xx from 50 on, else 20xx; three-digit ones add 1900.
  if (m[3]!.length === 2) year += year >= 50 ? 1900 : 2000;
  else if (m[3]!.length === 3) year += 1900;
  const day = Number(m[1]);
  if (month === 0 || day < 1 || day > 31) return null;
  return { year, month, day };
}

const has = (flags: readonly string[], flag: string): boolean => {
  const f = flag.toLowerCase();
  return flags.some((x) => x.toLowerCase() === f);
};

/** Whether decoded, lower-cased text contains the needle, compared case-insensitively. */
export const contains = (text: string | null, needle: string): boolean => text !== null && includesLinear(text, needle.toLowerCase());

/** Compares a message's day with a search date: negative when the message is earlier. */
function dayVs(at: number, d: ImapDate): number {
  return -compareDay(d, new Date(at));
}

function sentVs(content: SearchText, m: SearchCandidate, d: ImapDate): number | undefined {
  const sent = content.sentDate();
  if (sent === undefined) return undefined;
  if (!sent) return dayVs(m.internalDate ?? 0, d); // no usable Date field: the internal date stands in
  return sent.year * 10000 + sent.month * 100 + sent.day - (d.year * 10000 + d.month * 100 + d.day);
}

const compare = (n: number | undefined, test: (n: number) => boolean): boolean | undefined => (n === undefined ? undefined : test(n));

function flagKey(key: string, flags: readonly string[]): boolean {
  switch (key) {
    case 'ALL':
      return true;
    // \Recent is in the flags of messages recent to this session (IMAP4rev1 only).
    case 'OLD':
      return !has(flags, '\\Recent');
    case 'NEW':
      return has(flags, '\\Recent') && !has(flags, '\\Seen');
    case 'RECENT':
      return has(flags, '\\Recent');
    case 'ANSWERED':
      return has(flags, '\\Answered');
    case 'DELETED':
      return has(flags, '\\Deleted');
    case 'DRAFT':
      return has(flags, '\\Draft');
    case 'FLAGGED':
      return has(flags, '\\Flagged');
    case 'SEEN':
      return has(flags, '\\Seen');
    case 'UNANSWERED':
      return !has(flags, '\\Answered');
    case 'UNDELETED':
      return !has(flags, '\\Deleted');
    case 'UNDRAFT':
      return !has(flags, '\\Draft');
    case 'UNFLAGGED':
      return !has(flags, '\\Flagged');
    case 'UNSEEN':
      return !has(flags, '\\Seen');
    default:
      return false;
  }
}

/**
 * Whether the message matches every key: true, false, or undefined when the
 * answer depends on content that was not supplied (pass it and ask again).
 */
export function matchMessage(keys: readonly SearchKey[], m: SearchCandidate, scope: SearchScope, content: SearchText | null): boolean | undefined {
  return all(keys, m, scope, content);
}

function all(keys: readonly SearchKey[], m: SearchCandidate, scope: SearchScope, content: SearchText | null): boolean | undefined {
  let unknown = false;
  for (const k of keys) {
    const r = evaluate(k, m, scope, content);
    if (r === false) return false;
    if (r === undefined) unknown = true;
  }
  return unknown ? undefined : true;
}

function evaluate(k: SearchKey, m: SearchCandidate, scope: SearchScope, c: SearchText | null): boolean | undefined {
  switch (k.key) {
    case 'AND':
      return all(k.operands, m, scope, c);
    case 'NOT': {
      const r = evaluate(k.operand, m, scope, c);
      return r === undefined ? undefined : !r;
    }
    case 'OR': {
      const l = evaluate(k.left, m, scope, c);
      if (l === true) return true;
      const r = evaluate(k.right, m, scope, c);
      if (r === true) return true;
      return l === undefined || r === undefined ? undefined : false;
    }
    case 'SEQ':
      return k.set.type === 'saved' ? (scope.saved?.has(m.uid) ?? false) : inSequenceSet(k.set.ranges, m.seq, scope.exists);
    case 'UID':
      return k.set.type === 'saved' ? (scope.saved?.has(m.uid) ?? false) : inSequenceSet(k.set.ranges, m.uid, scope.maxUid);
    case 'KEYWORD':
      return has(m.flags, k.flag);
    case 'UNKEYWORD':
      return !has(m.flags, k.flag);
    case 'MODSEQ':
      return BigInt(m.modseq) >= k.modseq;
    case 'LARGER':
      return (m.size ?? 0) > k.size;
    case 'SMALLER':
      return (m.size ?? 0) < k.size;
    case 'BEFORE':
      return dayVs(m.internalDate ?? 0, k.date) < 0;
    case 'ON':
      return dayVs(m.internalDate ?? 0, k.date) === 0;
    case 'SINCE':
      return dayVs(m.internalDate ?? 0, k.date) >= 0;
    default:
      break;
  }
  if (!CONTENT_KEYS.has(k.key)) return flagKey(k.key, m.flags);
  if (!c) return undefined;
  switch (k.key) {
    case 'SENTBEFORE':
      return compare(sentVs(c, m, k.date), (n) => n < 0);
    case 'SENTON':
      return compare(sentVs(c, m, k.date), (n) => n === 0);
    case 'SENTSINCE':
      return compare(sentVs(c, m, k.date), (n) => n >= 0);
    case 'HEADER':
      // An empty string matches every message that has the field (RFC 9051).
      return k.value === '' ? c.hasHeader(k.field) : c.headerContains(k.field, k.value);
    case 'BODY':
      return c.bodyContains(k.value);
    case 'TEXT': {
      const inHeader = c.headersContain(k.value);
      if (inHeader === true) return true;
      const inBody = c.bodyContains(k.value);
      if (inBody === true) return true;
      return inHeader === undefined || inBody === undefined ? undefined : false;
    }
    case 'FROM':
    case 'TO':
    case 'CC':
    case 'BCC':
    case 'SUBJECT':
      return c.headerContains(k.key, k.value);
    default:
      return false;
  }
}
