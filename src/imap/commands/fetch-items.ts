/** The values of FETCH data items for one message (RFC 9051 6.4.5 / 7.5.2, BINARY RFC 3516). */
import {
  atom,
  encodeBodyStructure,
  encodeEnvelope,
  encodeFlags,
  fetchItemName,
  flagsValue,
  internalDateValue,
  literal,
  modseqValue,
  type FetchAtt,
  type FetchResponseItem,
  type ImapValue,
} from '../../codec/imap/index.js';
import { collectDefects, DEFAULT_MAX_PARTS, decodePartBody, fetchSection, findPart, messageHeader, messageText, parseMessage, type MimeMessage } from '../../codec/mime/index.js';
import type { CachedDetail } from '../../mailbox/header-cache.js';
import type { FlagList, MailboxView } from '../../mailbox/view.js';
import type { MailMessage } from '../../store/types.js';
import type { MessageContent } from '../content.js';
import { answers, CachedMessageStructure, EnvelopeOnly, structureOf, type MessageStructure, type StructureCache } from '../structure.js';

/** What answering a FETCH needs beyond the view. */
export interface FetchPlan {
  readonly items: readonly FetchAtt[];
  /** Size, internal date or blob id. */
  readonly meta: boolean;
  /** The message bytes for every message. */
  readonly bytes: boolean;
  /** ENVELOPE, BODY or BODYSTRUCTURE (bytes only when not cached). */
  readonly structure: boolean;
  /** BODY or BODYSTRUCTURE: the body structure, not only the ENVELOPE. */
  readonly body: boolean;
  /** The top-level header section: BODY[HEADER], BODY[HEADER.FIELDS (...)], RFC822.HEADER (bytes only when not cached). */
  readonly header: boolean;
  /** A non-PEEK body item: \Seen is set on a read-write mailbox. */
  readonly setsSeen: boolean;
}

export function planFetch(requested: readonly FetchAtt[], uid: boolean, withModseq: boolean): FetchPlan {
  const items: FetchAtt[] = [];
  const seen = new Set<string>();
  const add = (a: FetchAtt): void => {
    const key = fetchItemName(a) + (a.name === 'BODY[]' && a.partial ? `.${a.partial.length}` : '');
    if (!seen.has(key)) {
      seen.add(key);
      items.push(a);
    }
  };
  if (uid) add({ name: 'UID' });
  requested.forEach(add);
  if (withModseq) add({ name: 'MODSEQ' });
  let meta = false;
  let bytes = false;
  let structure = false;
  let body = false;
  let header = false;
  let setsSeen = false;
  for (const a of items) {
    switch (a.name) {
      case 'INTERNALDATE':
      case 'RFC822.SIZE':
        meta = true;
        break;
      case 'ENVELOPE':
        meta = structure = true;
        break;
      case 'BODY':
      case 'BODYSTRUCTURE':
        meta = structure = body = true;
        break;
      case 'RFC822':
      case 'RFC822.TEXT':
        meta = bytes = setsSeen = true;
        break;
      case 'RFC822.HEADER':
        meta = header = true;
        break;
      case 'BINARY.SIZE':
        meta = bytes = true;
        break;
      case 'BODY[]':
        meta = true;
        if (isHeaderSection(a.section)) header = true;
        else bytes = true;
        if (!a.peek) setsSeen = true;
        break;
      case 'BINARY[]':
        meta = bytes = true;
        if (!a.peek) setsSeen = true;
        break;
      default:
        break;
    }
  }
  return { items, meta, bytes, structure, body, header, setsSeen };
}

/** BODY[HEADER], BODY[HEADER.FIELDS (...)] or BODY[HEADER.FIELDS.NOT (...)] of the message itself. */
function isHeaderSection(s: { readonly part: readonly number[]; readonly text: string | null }): boolean {
  return s.part.length === 0 && (s.text === 'HEADER' || s.text === 'HEADER.FIELDS' || s.text === 'HEADER.FIELDS.NOT');
}

/** Transfer encodings BINARY can undo; anything else is UNKNOWN-CTE. */
const DECODABLE = new Set(['7bit', '8bit', 'binary', 'base64', 'quoted-printable']);

export class UnknownCte extends Error {}

/** A part number past the parts the MIME parser reads (DEFAULT_MAX_PARTS): refused rather than shown empty. */
export class PartBeyondLimit extends Error {}

/** A part that was not found: refused when the parser stopped at its part limit (it may lie beyond), else empty. */
function missingPart(mime: MimeMessage, part: readonly number[]): Buffer {
  if (part.length > 0 && mime.partCount >= DEFAULT_MAX_PARTS && collectDefects(mime.root).some((d) => d.code === 'part-limit')) {
    throw new PartBeyondLimit(part.join('.'));
  }
  return Buffer.alloc(0);
}

function slice(data: Buffer, partial: { offset: number; length: number } | null): Buffer {
  if (!partial) return data;
  const start = Math.min(partial.offset, data.length);
  return data.subarray(start, Math.min(start + partial.length, data.length));
}

export function binaryPart(c: MessageContent, part: readonly number[]): Buffer {
  if (part.length === 0) return c.data;
  const p = findPart(c.mime, part);
  if (!p) return missingPart(c.mime, part);
  if (!DECODABLE.has(p.transferEncoding)) throw new UnknownCte(p.transferEncoding);
  const out = decodePartBody(c.mime, p);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

function binaryValue(data: Buffer): ImapValue {
  return data.includes(0) ? literal(data, true) : data;
}

/**
 * Content for an ordinary literal (BODY[], RFC822...). A message appended as
 * a literal8 may hold NUL in its body, which an ordinary literal must never
 * carry (RFC 3516 4.2/4.4, RFC 9051 4.3). Each NUL is sent as 0x80 instead:
 * the length stays that of the stored octets, so RFC822.SIZE and partial
 * fetches keep their offsets; BINARY[] gives the exact octets in a literal8.
 */
export function textValue(data: Buffer): Buffer {
  if (!data.includes(0)) return data;
  const out = Buffer.from(data);
  for (let i = out.indexOf(0); i >= 0; i = out.indexOf(0, i + 1)) out[i] = 0x80;
  return out;
}

export interface MessageData {
  readonly seq: number;
  /** From the store when plan.meta. */
  readonly message: MailMessage | null;
  readonly content: MessageContent | null;
  /** The message's header cache detail, when it holds what the plan needs and the bytes were not read. */
  readonly cached?: CachedDetail | null;
}

/** The structure of a message (with its body structure when needBody), from memory, the cached detail or the bytes. */
export function structureFor(
  cache: StructureCache,
  m: MailMessage,
  content: MessageContent | null,
  cached: CachedDetail | null = null,
  needBody = true,
): MessageStructure | null {
  const known = cache.get(m.blobId);
  if (answers(known, needBody)) return known;
  let built: MessageStructure;
  if (content) built = structureOf(content.mime);
  else if (cached?.hasStructure) built = new CachedMessageStructure(cached.structureText!, cached.envelopeText);
  else if (!needBody && cached?.envelopeText) built = new EnvelopeOnly(cached.envelopeText);
  else return null;
  // What is known already is not replaced by less.
  if (!known || built.hasBody !== false) cache.set(m.blobId, built);
  return built;
}

/** The response items, in the order planned; FLAGS is added when \Seen was just set. Throws UnknownCte. */
export function fetchItems(
  plan: FetchPlan,
  view: MailboxView,
  d: MessageData,
  cache: StructureCache,
  flagsChanged: boolean,
): FetchResponseItem[] {
  const out: FetchResponseItem[] = [];
  const m = d.message;
  const c = d.content;
  // Header sections come from the bytes when they were read, else from the cached header section (parsed alike).
  let cachedHeader: MimeMessage | null = null;
  const head = (): MimeMessage => (c ? c.mime : (cachedHeader ??= parseMessage(d.cached!.header!)));
  let flagsSent = false;
  for (const a of plan.items) {
    const name = fetchItemName(a);
    switch (a.name) {
      case 'UID':
        out.push([name, view.uidAt(d.seq)]);
        break;
      case 'FLAGS':
        out.push([name, flagsValue(view.flagsAt(d.seq))]);
        flagsSent = true;
        break;
      case 'MODSEQ':
        out.push([name, modseqValue(view.modseqAt(d.seq))]);
        break;
      case 'INTERNALDATE':
        out.push([name, internalDateValue(new Date(m!.internalDate))]);
        break;
      case 'RFC822.SIZE':
        out.push([name, m!.size]);
        break;
      case 'ENVELOPE': {
        const st = structureFor(cache, m!, c, d.cached, false)!;
        out.push([name, st.envelopeText ? atom(st.envelopeText) : encodeEnvelope(st.envelope)]);
        break;
      }
      case 'BODY':
      case 'BODYSTRUCTURE':
        out.push([name, encodeBodyStructure(structureFor(cache, m!, c, d.cached)!.body, a.name === 'BODYSTRUCTURE')]);
        break;
      case 'RFC822':
        out.push([name, textValue(c!.data)]);
        break;
      case 'RFC822.HEADER': {
        const h = head();
        out.push([name, textValue(messageHeader(h, h.root))]);
        break;
      }
      case 'RFC822.TEXT':
        out.push([name, textValue(messageText(c!.mime, c!.mime.root))]);
        break;
      case 'BODY[]': {
        const s = a.section;
        // The whole message is its bytes as stored: no need to parse it.
        const whole = s.part.length === 0 && s.text === null;
        let data: Buffer;
        if (whole) data = c!.data;
        else {
          const source = isHeaderSection(s) ? head() : c!.mime;
          data = fetchSection(source, { part: s.part, ...(s.text ? { text: s.text } : {}), fields: s.fields }) ?? missingPart(source, s.part);
        }
        out.push([name, textValue(slice(data, a.partial))]);
        break;
      }
      case 'BINARY[]':
        out.push([name, binaryValue(slice(binaryPart(c!, a.part), a.partial))]);
        break;
      case 'BINARY.SIZE':
        out.push([name, binaryPart(c!, a.part).length]);
        break;
    }
  }
  if (flagsChanged && !flagsSent) out.push(['FLAGS', flagsValue(view.flagsAt(d.seq))]);
  return out;
}

/** True when every item comes from the view: the response lines can be built as plain text. */
export function viewOnly(plan: FetchPlan): boolean {
  return !plan.meta && plan.items.every((a) => a.name === 'UID' || a.name === 'FLAGS' || a.name === 'MODSEQ');
}

// Flag lists are interned by the view, so each distinct list is encoded once.
const flagText = new WeakMap<FlagList, string>();

/** The response line for a view-only FETCH, as text (the common "UID FETCH 1:* (FLAGS)" of a sync). */
export function viewOnlyLine(plan: FetchPlan, view: MailboxView, seq: number): string {
  let line = `* ${seq} FETCH (`;
  plan.items.forEach((a, i) => {
    if (i > 0) line += ' ';
    if (a.name === 'UID') line += `UID ${view.uidAt(seq)}`;
    else if (a.name === 'MODSEQ') line += `MODSEQ (${view.modseqAt(seq)})`;
    else {
      const flags = view.flagsAt(seq);
      let text = flagText.get(flags);
      if (text === undefined) flagText.set(flags, (text = encodeFlags(flags)));
      line += `FLAGS ${text}`;
    }
  });
  return line + ')\r\n';
}
