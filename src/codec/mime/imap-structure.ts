/**
 * ENVELOPE and BODYSTRUCTURE data (RFC 3501 section 7.4.2) built from a parsed
 * message, as plain objects; the IMAP encoder turns them into the wire syntax.
 * Strings are the raw header text (unfolded, not RFC 2047 decoded): IMAP sends
 * them as they are and clients decode.
 */
import { parseAddressNodes, type MailboxNode } from './address.js';
import { getField } from './header.js';
import type { HeaderField, MimeParam, MimePart } from './types.js';

export interface ImapAddress {
  readonly name: string | null;
  /** Obsolete source route ("at-domain-list"). */
  readonly adl: string | null;
  /** Local part; for a group start the group name; null at a group end. */
  readonly mailbox: string | null;
  /** Domain; null marks group syntax (start or end). */
  readonly host: string | null;
}

export interface ImapEnvelope {
  readonly date: string | null;
  readonly subject: string | null;
  readonly from: ImapAddress[] | null;
  readonly sender: ImapAddress[] | null;
  readonly replyTo: ImapAddress[] | null;
  readonly to: ImapAddress[] | null;
  readonly cc: ImapAddress[] | null;
  readonly bcc: ImapAddress[] | null;
  readonly inReplyTo: string | null;
  readonly messageId: string | null;
}

export interface ImapParam {
  readonly name: string;
  readonly value: string;
}

export interface ImapDisposition {
  readonly type: string;
  readonly params: ImapParam[];
}

/** Extension data shared by every body type (BODYSTRUCTURE only; BODY omits it). */
interface ImapExtension {
  readonly disposition: ImapDisposition | null;
  readonly language: string[] | null;
  readonly location: string | null;
}

export interface ImapSinglePart extends ImapExtension {
  readonly kind: 'single';
  /** Lower-cased media type and subtype. */
  readonly type: string;
  readonly subtype: string;
  readonly params: ImapParam[];
  readonly id: string | null;
  readonly description: string | null;
  /** Lower-cased Content-Transfer-Encoding, `7bit` when absent. */
  readonly encoding: string;
  /** Octets of the body as sent (still transfer-encoded). */
  readonly size: number;
  /** Text lines, for text/* and message/rfc822 (and message/global); null otherwise. */
  readonly lines: number | null;
  /** For message/rfc822 and message/global: the encapsulated message. */
  readonly envelope: ImapEnvelope | null;
  readonly body: ImapBodyStructure | null;
  readonly md5: string | null;
}

export interface ImapMultipart extends ImapExtension {
  readonly kind: 'multipart';
  readonly subtype: string;
  /** At least one child: a multipart without parts reports one empty text/plain. */
  readonly children: ImapBodyStructure[];
  readonly params: ImapParam[];
}

export type ImapBodyStructure = ImapSinglePart | ImapMultipart;

// RFC 3501 marks group syntax with a NIL host, so a mailbox without a domain (or a
// local part) gets these placeholders instead, as other IMAP servers do.
export const MISSING_MAILBOX = 'MISSING_MAILBOX';
export const MISSING_DOMAIN = 'MISSING_DOMAIN';

function toImap(m: MailboxNode): ImapAddress {
  return {
    name: m.phrase || m.comment || null,
    adl: m.route,
    mailbox: m.local || MISSING_MAILBOX,
    host: m.domain || MISSING_DOMAIN,
  };
}

/** Address list in RFC 3501 form; null when the field is absent or holds no address. */
export function imapAddresses(value: string | null): ImapAddress[] | null {
  if (value === null) return null;
  const out: ImapAddress[] = [];
  for (const node of parseAddressNodes(value)) {
    if (node.kind === 'mailbox') out.push(toImap(node));
    else {
      out.push({ name: null, adl: null, mailbox: node.phrase, host: null });
      for (const m of node.members) out.push(toImap(m));
      out.push({ name: null, adl: null, mailbox: null, host: null });
    }
  }
  return out.length > 0 ? out : null;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * A field's value with its bytes kept: text that was not UTF-8 (GB2312 or
 * KOI8-R written raw, without encoded words) was read byte for byte as
 * Latin-1; each such byte 0x80..0xFF becomes the lone surrogate
 * U+DC80..U+DCFF, which the IMAP encoder writes back as that byte. So
 * ENVELOPE sends the bytes that were written, never a reinterpretation.
 */
export function rawEightBit(field: HeaderField): string {
  const v = field.value;
  if (!field.raw.some((b) => b >= 0x80)) return v;
  try {
    utf8Strict.decode(field.raw);
    return v;
  } catch {
    return v.replace(/[\x80-\xff]/g, (c) => String.fromCharCode(0xdc00 + c.charCodeAt(0)));
  }
}

/** ENVELOPE of a message root: the top root, or a message/rfc822 part's `message`. */
export function buildEnvelope(root: MimePart): ImapEnvelope {
  const fields = root.header.fields;
  const raw = (name: string): string | null => {
    const f = getField(fields, name);
    return f ? rawEightBit(f) : null;
  };
  const from = imapAddresses(raw('From'));
  return {
    date: raw('Date'),
    subject: raw('Subject'),
    from,
    // RFC 3501: absent or empty Sender and Reply-To take the value of From.
    sender: imapAddresses(raw('Sender')) ?? from,
    replyTo: imapAddresses(raw('Reply-To')) ?? from,
    to: imapAddresses(raw('To')),
    cc: imapAddresses(raw('Cc')),
    bcc: imapAddresses(raw('Bcc')),
    inReplyTo: raw('In-Reply-To'),
    messageId: raw('Message-ID'),
  };
}

function params(list: readonly MimeParam[]): ImapParam[] {
  return list.map((p) => ({ name: p.imapName, value: p.imapValue }));
}

function extension(part: MimePart): ImapExtension {
  return {
    disposition: part.disposition ? { type: part.disposition.type, params: params(part.disposition.params) } : null,
    language: part.language,
    location: part.location,
  };
}

const EMPTY_ENVELOPE: ImapEnvelope = {
  date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null,
};

function emptyText(): ImapSinglePart {
  return {
    kind: 'single', type: 'text', subtype: 'plain', params: [{ name: 'charset', value: 'us-ascii' }], id: null, description: null,
    encoding: '7bit', size: 0, lines: 0, envelope: null, body: null, md5: null, disposition: null, language: null, location: null,
  };
}

/**
 * BODYSTRUCTURE of a part (pass a message root for the whole message). The tree is
 * as deep as the parser's depth limit allows, so recursion here is bounded.
 */
export function buildBodyStructure(part: MimePart): ImapBodyStructure {
  const ct = part.contentType;
  if (ct.type === 'multipart') {
    const children = part.children.map(buildBodyStructure);
    return { kind: 'multipart', subtype: ct.subtype, children: children.length > 0 ? children : [emptyText()], params: params(ct.params), ...extension(part) };
  }
  const isText = ct.type === 'text';
  const isMessage = ct.type === 'message' && (ct.subtype === 'rfc822' || ct.subtype === 'global');
  const ps = params(ct.params);
  // A text part without a charset is us-ascii (RFC 2045 section 5.2); say so, as other servers do.
  if (isText && !ct.params.some((p) => p.name === 'charset')) ps.unshift({ name: 'charset', value: 'us-ascii' });
  return {
    kind: 'single',
    type: ct.type,
    subtype: ct.subtype,
    params: ps,
    id: part.contentId,
    description: part.description,
    encoding: part.transferEncoding,
    size: part.bodyEnd - part.bodyStart,
    lines: isText || isMessage ? part.lines : null,
    envelope: isMessage ? (part.message ? buildEnvelope(part.message) : EMPTY_ENVELOPE) : null,
    body: isMessage ? (part.message ? buildBodyStructure(part.message) : emptyText()) : null,
    md5: part.md5,
    ...extension(part),
  };
}
