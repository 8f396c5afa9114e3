/**
 * The MIME walk of DLP extraction: top-level header fields (RFC 2047
 * decoded, unfolded, bounded), the subject, every text body in its charset
 * and transfer encoding, attachments by their true type (document.ts), and
 * encapsulated messages (message/rfc822, walked in place; an attached .eml
 * re-parsed, a few levels deep). Encrypted messages and parts are findings.
 * An explicit stack: hostile nesting cannot overflow the call stack.
 */
import { decodeEncodedWords, decodePartBody, paramValue, parseMessage, type MimeMessage, type MimePart } from '../../../codec/mime/index.js';
import { parseOnce } from '../../pool/parse-memo.js';
import type { HeaderText } from '../types.js';
import { signedContent } from './cms.js';
import type { Collector } from './collector.js';
import { extractFile } from './document.js';
import { PGP_ARMOUR, wholeMessageKind } from './encrypted.js';
import { htmlToText } from '../../../codec/mime/index.js';
import { decodeText } from './text.js';

const MIME_LIMITS = { maxDepth: 20, maxParts: 1000 };
const MAX_FIELDS = 200;
const MAX_VALUE = 8192;
const MAX_NAME = 100;
/** Attached messages (.eml files, encoded message/rfc822, opaque S/MIME content) re-parsed inside one another. */
const MAX_MESSAGE_DEPTH = 4;
const PLAIN_ENCODINGS = new Set(['7bit', '8bit', 'binary']);

export interface MessageHeaders {
  readonly headers: HeaderText[];
  readonly subject: string;
}

function fileNameOf(p: MimePart): string | null {
  const name = paramValue(p.disposition?.params ?? [], 'filename') ?? paramValue(p.contentType.params, 'name');
  return name ? name.slice(0, 255) : null;
}

function decodeField(value: string, max: number): string {
  const v = decodeEncodedWords(value.length > max * 2 ? value.slice(0, max * 2) : value);
  return v.length > max ? v.slice(0, max) : v;
}

/** The top-level fields, decoded and bounded. */
export function headersOf(root: MimePart): MessageHeaders {
  const headers: HeaderText[] = [];
  let subject: string | null = null;
  for (const f of root.header.fields) {
    if (headers.length >= MAX_FIELDS) break;
    const value = decodeField(f.value, MAX_VALUE);
    headers.push({ name: f.name.slice(0, MAX_NAME), value });
    if (subject === null && f.name.toLowerCase() === 'subject') subject = value;
  }
  return { headers, subject: subject ?? '' };
}

class MessageWalker {
  constructor(
    private readonly c: Collector,
    private readonly depth: number,
  ) {}

  /** Reads an attached message's text into the collector (its header fields are not the message's). */
  readonly nested = async (bytes: Uint8Array, source: string): Promise<void> => {
    if (this.depth + 1 > MAX_MESSAGE_DEPTH) {
      this.c.find('archive-limit', source, `messages nested more than ${MAX_MESSAGE_DEPTH} deep`);
      return;
    }
    await new MessageWalker(this.c, this.depth + 1).walk(parseMessage(bytes, MIME_LIMITS), source, true);
  };

  /**
   * Walks a parsed message. `prefix` names an enclosing part ("attachment:2/fwd.eml") or is '' at the top;
   * `showSubject` adds an encapsulated message's subject as body text.
   */
  async walk(msg: MimeMessage, prefix: string, showSubject: boolean): Promise<void> {
    const c = this.c;
    const stack: { part: MimePart; path: string }[] = [{ part: msg.root, path: '' }];
    const name = (kind: string, path: string) => (prefix ? `${prefix}!${path}` : `${kind}:${path}`);
    if (showSubject) c.add('body', name('body', 'subject'), headersOf(msg.root).subject);
    while (stack.length > 0 && !c.full) {
      const { part, path } = stack.pop()!;
      const at = (i: number) => (path ? `${path}.${i + 1}` : String(i + 1));
      const here = path || '1';
      const whole = wholeMessageKind(part, () => decodePartBody(msg, part, 64));
      if (whole === 'encrypted') {
        c.find('encrypted-message', name('body', here), 'an encrypted message (S/MIME or PGP): its content cannot be read');
        continue;
      }
      if (part.contentType.type === 'multipart') {
        for (let i = part.children.length - 1; i >= 0; i--) stack.push({ part: part.children[i]!, path: at(i) });
        continue;
      }
      // A base64 or quoted-printable message/rfc822 (which RFC 2046 forbids) was parsed from its encoded text: decode it instead.
      if (part.message && PLAIN_ENCODINGS.has(part.transferEncoding)) {
        const m = part.message;
        if (m.header.fields.length > 0) c.add('body', name('body', `${here}.subject`), headersOf(m).subject);
        if (m.contentType.type === 'multipart') for (let i = m.children.length - 1; i >= 0; i--) stack.push({ part: m.children[i]!, path: at(i) });
        else stack.push({ part: m, path: `${here}.1` });
        continue;
      }
      const room = c.byteRoom;
      if (room <= 0) {
        c.find('archive-limit', name('body', here), `the message decodes to more than ${c.limits.maxTotalBytes} bytes`);
        break;
      }
      const bytes = decodePartBody(msg, part, room);
      c.bytes += bytes.length;
      if (whole === 'signed') {
        const inner = signedContent(bytes);
        if (inner) await this.nested(inner, name('body', here));
        else c.find('unreadable', name('body', here), 'an opaque signed S/MIME message whose content could not be found');
        continue;
      }
      await this.leaf(part, bytes, here, name);
    }
  }

  private async leaf(part: MimePart, bytes: Uint8Array, path: string, name: (kind: string, path: string) => string): Promise<void> {
    const c = this.c;
    const type = `${part.contentType.type}/${part.contentType.subtype}`;
    const filename = fileNameOf(part);
    const attachment = filename !== null || part.disposition?.type === 'attachment';
    const charset = paramValue(part.contentType.params, 'charset') ?? null;
    if (!attachment && (type === 'text/plain' || type === 'text/html')) {
      const source = name('body', path);
      const text = decodeText(bytes, charset);
      if (text.includes(PGP_ARMOUR)) c.find('encrypted-message', source, 'an inline PGP-encrypted message: its content cannot be read');
      c.add('body', source, type === 'text/html' ? htmlToText(text, c.room + 1) : text);
      return;
    }
    const kind = attachment ? 'attachment' : 'body';
    const source = name(kind, filename ? `${path}/${filename}` : path);
    await extractFile(
      c,
      { bytes, name: filename, declaredType: part.contentType.defaulted ? null : type, charset, source, kind, archiveDepth: 0 },
      this.nested,
    );
  }
}

/** Walks a whole message into the collector; returns its top-level header fields and subject. */
export async function walkMessage(c: Collector, raw: Uint8Array): Promise<MessageHeaders> {
  const msg = parseOnce(raw, MIME_LIMITS);
  const h = headersOf(msg.root);
  c.add('subject', 'subject', h.subject);
  await new MessageWalker(c, 0).walk(msg, '', false);
  return h;
}

/** A reader of attached messages for a file given alone (an .eml inside a .zip). */
export function messageReader(c: Collector): (bytes: Uint8Array, source: string) => Promise<void> {
  return new MessageWalker(c, 0).nested;
}
