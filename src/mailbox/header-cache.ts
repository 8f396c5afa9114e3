/**
 * The header cache: what SEARCH and FETCH need of a message, derived once
 * from its verified bytes and kept in the store per blob id
 * (MailboxRepo.getHeaderCache/searchHeaderCache/putHeaderCache), as
 * Dovecot's index cache keeps it, so that neither has to read, verify and
 * parse the blob again.
 *
 * An entry has two parts, both laid out and checked here (the store keeps
 * them opaque):
 * - `search`, read for the candidate messages of a SEARCH: the first Date
 *   field's day and the decoded, lower-cased text of From, To, Cc, Bcc and
 *   Subject, exactly as SearchContent computes them, as
 *   `<format>.<check>.<json>`. When the criteria require a text (SUBJECT
 *   "x"), the store leaves out the rows that do not contain it before they
 *   are read: such a row is not checked, and a row damaged so that it lost
 *   the text is not found by that SEARCH.
 * - `detail`, read for FETCH and for header fields outside that list: the
 *   header section exactly as stored (at most 64 KiB), the ENVELOPE and
 *   BODYSTRUCTURE data as compact JSON, and the ENVELOPE as IMAP writes it
 *   when that text is the same whatever the client enabled (no literal, only
 *   ASCII): a FETCH ENVELOPE then sends it as it is, with no decode or
 *   encode per message. A FETCH of ENVELOPE alone derives a detail without
 *   the body structure (from the header section alone, flagged as pending);
 *   the first FETCH that needs the body structure completes it. It may be absent: SEARCH derives
 *   only the search part (`searchEntry`, from the header section alone, no
 *   MIME parse), and the first FETCH or SEARCH that needs the detail reads
 *   the blob and stores both parts (`cacheEntry`).
 *
 * Each part carries a CRC-32 over the blob id and its content, as each block
 * of a blob container does: cheap enough to verify on every row of a
 * 100,000-message SEARCH, and it catches a damaged row or a row filed under
 * another blob. It is no defence against forgery: whoever can write the
 * database can rewrite the messages table as well.
 *
 * An entry is derived only from bytes that hash to its blob id (a verified
 * blob read, or the bytes just stored), so it can only ever describe those
 * bytes; one that fails its check is ignored and rebuilt from the blob; the
 * store leaves out entries of blobs marked damaged, so a known-damaged message
 * is refused as before. Derived data only: a body is always read from the blob.
 */
import { crc32 } from 'node:zlib';
import type { ImapDate, SearchKey } from '../codec/imap/index.js';
import {
  buildBodyStructure,
  buildEnvelope,
  parseHeaderSection,
  parseMessage,
  type ImapAddress,
  type ImapBodyStructure,
  type HeaderField,
  type ImapEnvelope,
  type MimeMessage,
  type MimePart,
} from '../codec/mime/index.js';
import type { CachedHeader, HeaderCacheEntry, MailboxRepo } from '../store/types.js';
import { decodeStructure, encodeStructure } from './cached-structure.js';
import { contains, HeaderText, type SearchPlan, type SearchText } from './search.js';

/** Fields whose decoded text the search part keeps (SEARCH FROM/TO/CC/BCC/SUBJECT, and HEADER on these names). */
export const SEARCH_FIELDS: readonly string[] = ['from', 'to', 'cc', 'bcc', 'subject'];
/** Largest header section kept; a larger one stays in the blob only. */
export const MAX_CACHED_HEADER = 64 * 1024;
/** Largest search part: a message whose five fields take more has no entry (its blob answers). */
const MAX_SEARCH = 16 * 1024;
/** Largest detail part; the header, then the structure, are left out to stay below it. */
const MAX_DETAIL = 256 * 1024;
/** Search part layout version: entries of another version are ignored and rebuilt (2: address fields also in plain form). */
const FORMAT = 2;
/** Detail layout written (3: with the ENVELOPE's IMAP text); 2, without it, is still read. */
const DETAIL_FORMAT = 3;
const FIELD_INDEX = new Map(SEARCH_FIELDS.map((f, i) => [f, i + 1]));
/** The fields the search part is made of: those, and the Date it takes the day from. */
const KEPT_FIELDS = new Set([...SEARCH_FIELDS, 'date']);
const FIELD_KEYS = new Set(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT']);
const DETAIL_CHECK = 4;
/** Check, format, flags, structure length; format 3 adds the ENVELOPE text's length. */
const DETAIL_HEAD_V2 = DETAIL_CHECK + 6;
const DETAIL_HEAD = DETAIL_CHECK + 10;
const HAS_STRUCTURE = 1;
const HAS_HEADER = 2;
const HAS_ENVELOPE_TEXT = 4;
/** The body structure was not derived yet (an entry made for ENVELOPE from the header section alone). */
const BODY_PENDING = 8;

/** ENVELOPE and BODYSTRUCTURE as the MIME codec builds them. */
export interface CachedStructure {
  readonly envelope: ImapEnvelope;
  readonly body: ImapBodyStructure;
}

/**
 * A string every message matching the criteria has in its search part, for
 * the store to filter on (MailboxRepo.searchHeaderCache): the longest value
 * of a FROM, TO, CC, BCC, SUBJECT or HEADER key on those fields that all
 * criteria require (not under OR or NOT), lower-cased as the search part is,
 * and written by JSON as it is. Null when no key qualifies.
 */
export function requiredText(keys: readonly SearchKey[]): string | null {
  let best: string | null = null;
  const visit = (k: SearchKey): void => {
    if (k.key === 'AND') return k.operands.forEach(visit);
    const field = k.key === 'HEADER' ? k.field.toLowerCase() : FIELD_KEYS.has(k.key) ? k.key.toLowerCase() : null;
    if (field === null || !FIELD_INDEX.has(field) || !('value' in k)) return;
    const needle = k.value.toLowerCase();
    if (needle !== '' && verbatimInJson(needle) && (best === null || needle.length > best.length)) best = needle;
  };
  keys.forEach(visit);
  return best;
}

/** Whether criteria need the detail part too: a field the search part does not keep, or TEXT (the whole header). */
export function searchNeedsDetail(plan: SearchPlan): boolean {
  return plan.allHeaders || plan.fields.some((f) => !FIELD_INDEX.has(f));
}

/**
 * The entry for a message, both parts, from its parsed bytes, which must be
 * the blob's verified bytes; null when its From/To/Cc/Bcc/Subject are too
 * large to keep (SEARCH and FETCH then read the blob, as without a cache).
 */
export function cacheEntry(blobId: string, msg: MimeMessage): HeaderCacheEntry | null {
  return deriveEntry(blobId, msg)?.entry ?? null;
}

/** An entry with both parts and the structure it was built from (so a caller answering FETCH need not build it again). */
export interface DerivedEntry {
  readonly entry: HeaderCacheEntry;
  readonly structure: CachedStructure & { readonly envelopeText: string | null };
}

/** As cacheEntry, also handing back the ENVELOPE and BODYSTRUCTURE data just built. */
export function deriveEntry(blobId: string, msg: MimeMessage): DerivedEntry | null {
  const root = msg.root;
  const search = searchPart(blobId, root.header.fields);
  if (search === null) return null;
  const headerBytes = msg.buf.subarray(root.headerStart, root.bodyStart);
  // A header cut short by a parser limit would not parse alike on its own: it is not kept.
  let header: Buffer | null = !root.header.truncated && headerBytes.length <= MAX_CACHED_HEADER ? headerBytes : null;
  const built: CachedStructure = { envelope: buildEnvelope(root), body: buildBodyStructure(root) };
  let structure: Buffer | null = Buffer.from(encodeStructure(built.envelope, built.body), 'utf8');
  const wire = envelopeText(built.envelope);
  let envelope: Buffer | null = wire === null ? null : Buffer.from(wire, 'latin1');
  if (header && DETAIL_HEAD + structure.length + (envelope?.length ?? 0) + header.length > MAX_DETAIL) header = null;
  if (envelope && DETAIL_HEAD + structure.length + envelope.length > MAX_DETAIL) envelope = null;
  if (DETAIL_HEAD + structure.length > MAX_DETAIL) structure = null;
  const detail = packDetail(blobId, structure, envelope, header, false);
  return { entry: { blobId, search, detail }, structure: { ...built, envelopeText: envelope ? wire : null } };
}

/**
 * A detail part in the current layout: check, format, flags, the lengths of
 * the structure and the ENVELOPE text, then the parts present. One buffer,
 * the check written in front of the rest once that is complete.
 */
function packDetail(blobId: string, structure: Buffer | null, envelope: Buffer | null, header: Buffer | null, bodyPending: boolean): Buffer {
  const structureLength = structure?.length ?? 0;
  const envelopeLength = envelope?.length ?? 0;
  const detail = Buffer.allocUnsafe(DETAIL_HEAD + structureLength + envelopeLength + (header?.length ?? 0));
  const rest = detail.subarray(DETAIL_CHECK);
  rest[0] = DETAIL_FORMAT;
  rest[1] = (structure ? HAS_STRUCTURE : 0) | (header ? HAS_HEADER : 0) | (envelope ? HAS_ENVELOPE_TEXT : 0) | (bodyPending ? BODY_PENDING : 0);
  rest.writeUInt32BE(structureLength, 2);
  rest.writeUInt32BE(envelopeLength, 6);
  structure?.copy(rest, 10);
  envelope?.copy(rest, 10 + structureLength);
  header?.copy(rest, 10 + structureLength + envelopeLength);
  detail.writeUInt32BE(detailCheck(blobId, rest), 0);
  return detail;
}

/**
 * The ENVELOPE as IMAP writes it (encodeEnvelope), when that text does not
 * depend on what the client enabled: when every string in it is printable
 * ASCII of at most 1,024 characters, each is a quoted string for any client;
 * any other string is a literal, or is quoted only for a UTF-8 client, and
 * then this is null (the envelope is encoded per FETCH from the structure,
 * as before). Written directly, with no Buffer per string: it runs once per
 * message that is cached.
 */
export function envelopeText(e: ImapEnvelope): string | null {
  const orFrom = (list: readonly ImapAddress[] | null): readonly ImapAddress[] | null => (list === null || list.length === 0 ? e.from : list);
  const parts = [
    quoted(e.date),
    quoted(e.subject),
    addressText(e.from),
    addressText(orFrom(e.sender)),
    addressText(orFrom(e.replyTo)),
    addressText(e.to),
    addressText(e.cc),
    addressText(e.bcc),
    quoted(e.inReplyTo),
    quoted(e.messageId),
  ];
  return parts.includes(null) ? null : `(${parts.join(' ')})`;
}

/** Longest string IMAP sends quoted (the encoder's default). */
const MAX_QUOTED = 1024;

/** NIL, or the quoted string every client is sent; null when a client could be sent something else. */
function quoted(v: string | null): string | null {
  if (v === null) return 'NIL';
  if (v.length > MAX_QUOTED) return null;
  let escape = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return null;
    if (c === 0x22 || c === 0x5c) escape = true;
  }
  return `"${escape ? v.replace(/[\\"]/g, (c) => `\\${c}`) : v}"`;
}

/** An address list: "(" 1*address ")", no space between addresses; NIL when empty. */
function addressText(list: readonly ImapAddress[] | null): string | null {
  if (list === null || list.length === 0) return 'NIL';
  let out = '(';
  for (const a of list) {
    const name = quoted(a.name);
    const adl = quoted(a.adl);
    const mailbox = quoted(a.mailbox);
    const host = quoted(a.host);
    if (name === null || adl === null || mailbox === null || host === null) return null;
    out += `(${name} ${adl} ${mailbox} ${host})`;
  }
  return out + ')';
}

/**
 * The entry of a message for FETCH ENVELOPE, from the blob's verified bytes
 * with no MIME parse: the search part, and a detail with the header section
 * and the ENVELOPE text but with the body structure pending. The top-level
 * header section is scanned with the limits parseMessage applies to it, and
 * ENVELOPE reads only those fields, so both are what deriveEntry gives.
 * Null when this shortcut does not apply (a header cut short by a limit, an
 * ENVELOPE whose text depends on the client, too large a search part): the
 * caller derives the whole entry instead.
 */
export function envelopeEntry(blobId: string, bytes: Uint8Array): { entry: HeaderCacheEntry; envelopeText: string } | null {
  const section = parseHeaderSection(bytes);
  if (section.truncated) return null;
  const search = searchPart(blobId, section.fields);
  if (search === null) return null;
  // buildEnvelope reads the part's header fields and nothing else.
  const text = envelopeText(buildEnvelope({ header: section } as Pick<MimePart, 'header'> as MimePart));
  if (text === null) return null;
  const envelope = Buffer.from(text, 'latin1');
  const headerBytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(section.start, section.bodyStart);
  const header = headerBytes.length <= MAX_CACHED_HEADER && DETAIL_HEAD + envelope.length + headerBytes.length <= MAX_DETAIL ? headerBytes : null;
  if (DETAIL_HEAD + envelope.length > MAX_DETAIL) return null;
  return { entry: { blobId, search, detail: packDetail(blobId, null, envelope, header, true) }, envelopeText: text };
}

/**
 * The entry of a message with its search part only (detail null), from the
 * blob's verified bytes: only the top-level header section is scanned, with
 * the limits parseMessage applies to it, so the fields, and hence the search
 * part, are those cacheEntry derives from the parsed message.
 */
export function searchEntry(blobId: string, bytes: Uint8Array): HeaderCacheEntry | null {
  const search = searchPart(blobId, parseHeaderSection(bytes, { keep: isKept }).fields);
  return search === null ? null : { blobId, search, detail: null };
}

/** Whether a field is one the search part is made of (any case). */
function isKept(name: string): boolean {
  return KEPT_FIELDS.has(name.toLowerCase());
}

/** The search part for a message's top-level header fields, or null when it would be too large. */
function searchPart(blobId: string, fields: readonly HeaderField[]): string | null {
  // Only these fields count (HeaderText looks each name up by a pass over the fields): one pass picks them out.
  const text = new HeaderText(fields.filter((f) => isKept(f.name)));
  const sent = text.sentDate();
  const json = JSON.stringify([sent ? sent.year * 10000 + sent.month * 100 + sent.day : null, ...SEARCH_FIELDS.map((f) => text.header(f))]);
  if (json.length > MAX_SEARCH) return null;
  return `${FORMAT}.${searchCheck(blobId, json)}.${json}`;
}

/**
 * Derives and stores the entry of a message whose bytes are in hand, e.g.
 * where mail is delivered: `bytes` must be exactly those stored as `blobId`.
 */
export async function cacheMessage(repo: Pick<MailboxRepo, 'putHeaderCache'>, blobId: string, bytes: Uint8Array): Promise<void> {
  const entry = cacheEntry(blobId, parseMessage(bytes));
  if (entry) await repo.putHeaderCache([entry]);
}

/** The detail part of an entry: the header section and the structure, each null when it was not kept. */
export class CachedDetail {
  private parsed: CachedStructure | null = null;

  constructor(
    private readonly structureJson: Buffer | null,
    /** The header section through the blank line, byte for byte as stored. */
    readonly header: Buffer | null,
    /** The ENVELOPE as IMAP writes it for any client (see envelopeText), when kept. */
    readonly envelopeText: string | null = null,
    /** The body structure was not derived yet: a FETCH that needs it derives the whole entry again. */
    readonly bodyPending = false,
  ) {}

  /** Whether the structure was kept (without decoding it). */
  get hasStructure(): boolean {
    return this.structureJson !== null;
  }

  /** The structure's JSON text, when kept. */
  get structureText(): string | null {
    return this.structureJson ? this.structureJson.toString('utf8') : null;
  }

  get structure(): CachedStructure | null {
    if (!this.structureJson) return null;
    this.parsed ??= decodeStructure(this.structureJson.toString('utf8'));
    return this.parsed;
  }
}

/** The detail of a row read with its detail, or null when the row is damaged, of another format, or has none. */
export function readDetail(row: CachedHeader): CachedDetail | null {
  const d = row.detail;
  if (!d || d.length < DETAIL_HEAD_V2) return null;
  const buf = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  const rest = buf.subarray(DETAIL_CHECK);
  const format = rest[0];
  if ((format !== DETAIL_FORMAT && format !== 2) || (format === DETAIL_FORMAT && d.length < DETAIL_HEAD)) return null;
  if (buf.readUInt32BE(0) !== detailCheck(row.blobId, rest)) return null;
  const flags = rest[1]!;
  const length = rest.readUInt32BE(2);
  // Format 2 has no ENVELOPE text (nor its length field).
  const start = format === 2 ? 6 : 10;
  const textLength = format === 2 ? 0 : rest.readUInt32BE(6);
  if (start + length + textLength > rest.length) return null;
  const structure = flags & HAS_STRUCTURE ? rest.subarray(start, start + length) : null;
  const text = format !== 2 && flags & HAS_ENVELOPE_TEXT ? rest.toString('latin1', start + length, start + length + textLength) : null;
  const header = flags & HAS_HEADER ? rest.subarray(start + length + textLength) : null;
  return new CachedDetail(structure, header, text, format !== 2 && (flags & BODY_PENDING) !== 0);
}

/**
 * The search part of a row as a SearchText (with the detail's header section
 * for other fields and TEXT, when given), or null when the row is damaged or
 * of another format.
 */
export function readSearch(row: CachedHeader, detail: CachedDetail | null = null): CachedSearch | null {
  const s = row.search;
  const dot = formatDot(s);
  if (dot < 0) return null;
  const json = s.slice(dot + 10);
  if (s.slice(dot + 1, dot + 9) !== searchCheck(row.blobId, json)) return null;
  return new CachedSearch(json, detail?.header ?? null);
}

/**
 * A search part derived just now, in this process, from verified bytes, as a
 * SearchText: its check guards a stored row against damage, and this one was
 * never stored, so it is not computed again (a first SEARCH reads 100,000).
 */
export function readDerivedSearch(search: string): CachedSearch | null {
  const dot = formatDot(search);
  return dot < 0 ? null : new CachedSearch(search.slice(dot + 10), null);
}

/** Where the check of a search part of this format starts (the dot after the format), or -1. */
function formatDot(s: string): number {
  const dot = s.indexOf('.', 0);
  return dot < 0 || s.slice(0, dot) !== String(FORMAT) || s.charCodeAt(dot + 9) !== 0x2e ? -1 : dot;
}

/**
 * SEARCH over a cached entry: From, To, Cc, Bcc, Subject and the Date come
 * from the search part; other fields and TEXT's header half from the header
 * section when it was read; body text never (undefined: read the blob).
 */
export class CachedSearch implements SearchText {
  private values: ReadonlyArray<string | number | null> | null = null;
  private text: HeaderText | null = null;

  constructor(
    /** The search part's JSON. */
    private readonly json: string,
    /** The header section, when the detail was read and holds it. */
    private readonly header: Buffer | null,
  ) {}

  private value(i: number): string | number | null {
    this.values ??= JSON.parse(this.json) as Array<string | number | null>;
    return this.values[i] ?? null;
  }

  private fields(): HeaderText | null {
    if (!this.header) return null;
    this.text ??= new HeaderText(parseHeaderSection(this.header).fields);
    return this.text;
  }

  hasHeader(name: string): boolean | undefined {
    const i = FIELD_INDEX.get(name.toLowerCase());
    if (i !== undefined) return this.value(i) !== null;
    const f = this.fields();
    return f ? f.header(name) !== null : undefined;
  }

  headerContains(name: string, needle: string): boolean | undefined {
    const i = FIELD_INDEX.get(name.toLowerCase());
    if (i !== undefined) {
      const n = needle.toLowerCase();
      // JSON writes such a needle unescaped: absent from the whole text, it is in no field (no parse needed).
      if (verbatimInJson(n) && !this.json.includes(n)) return false;
      const v = this.value(i);
      return typeof v === 'string' && v.includes(n);
    }
    const f = this.fields();
    return f ? contains(f.header(name), needle) : undefined;
  }

  headersContain(needle: string): boolean | undefined {
    const f = this.fields();
    return f ? contains(f.headers(), needle) : undefined;
  }

  bodyContains(): undefined {
    return undefined;
  }

  sentDate(): ImapDate | null {
    const v = this.value(0);
    if (typeof v !== 'number') return null;
    return { year: Math.floor(v / 10000), month: Math.floor(v / 100) % 100, day: v % 100 };
  }
}

/** True when JSON.stringify leaves the text as it is: no quote, backslash, control character or surrogate. */
function verbatimInJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/** CRC-32 over the blob id and the search JSON, as 8 hex digits. */
function searchCheck(blobId: string, json: string): string {
  return crc32(json, crc32(blobId)).toString(16).padStart(8, '0');
}

/** CRC-32 over the blob id and the rest of the detail (stored as 4 bytes, big-endian). */
function detailCheck(blobId: string, rest: Buffer): number {
  return crc32(rest, crc32(blobId));
}
