/**
 * Whole RFC 5322 messages through S/MIME: the header fields the caller names
 * stay outside (so a mailbox can still list and thread the message), the
 * body and its Content-* fields become the protected inner entity, which is
 * encrypted or signed. The caller chooses the outer list, so an at-rest
 * policy can decide how much metadata stays readable.
 */
import { encryptData, type EncryptOptions } from './envelope.js';
import { decryptData, type DecryptOptions, type DecryptResult } from './decrypt.js';
import { type HeaderField, canonicalize, field, splitEntity } from './entity.js';
import { parseSmime, pkcs7MimeEntity, signEntity } from './mime.js';
import { type SignOptions } from './sign.js';

/** A sensible outer set: what clients need to list, thread and reply. */
export const DEFAULT_OUTER_FIELDS: readonly string[] = [
  'Return-Path', 'Received', 'Date', 'From', 'Sender', 'Reply-To', 'To', 'Cc', 'Subject', 'Message-ID', 'In-Reply-To', 'References',
];

export interface MessageEncryptOptions extends EncryptOptions {
  /** Header fields (case-insensitive names) kept outside, in their original order; default DEFAULT_OUTER_FIELDS. */
  outerFields?: readonly string[];
  /**
   * 'content' (default): the inner entity has only the Content-* fields.
   * 'all': it has every original field too (header protection), so a
   * decrypting reader sees fields that were not kept outside.
   */
  innerFields?: 'content' | 'all';
}

const CRLF = new Uint8Array([13, 10]);
const isContentField = (f: HeaderField): boolean => /^content-/i.test(f.name);
const withCrlf = (raw: Uint8Array): Uint8Array => {
  const c = canonicalize(raw);
  return c[c.length - 1] === 10 ? c : new Uint8Array(Buffer.concat([c, CRLF]));
};

function split(message: Uint8Array, outerFields: readonly string[], innerFields: 'content' | 'all') {
  const entity = splitEntity(message);
  const keep = new Set(outerFields.map((n) => n.toLowerCase()));
  const outer = entity.fields.filter((f) => keep.has(f.name.toLowerCase()) && !isContentField(f) && f.name.toLowerCase() !== 'mime-version');
  const innerList = innerFields === 'all' ? entity.fields.filter((f) => f.name.toLowerCase() !== 'mime-version') : entity.fields.filter(isContentField);
  const inner = Buffer.concat([...innerList.map((f) => withCrlf(f.raw)), CRLF, canonicalize(entity.body)]);
  return { outer: Buffer.concat(outer.map((f) => withCrlf(f.raw))), inner: new Uint8Array(inner) };
}

/** The message encrypted to the recipients: outer fields + MIME-Version + an application/pkcs7-mime body. */
export function encryptMessage(message: Uint8Array, opts: MessageEncryptOptions): Uint8Array {
  const { outer, inner } = split(message, opts.outerFields ?? DEFAULT_OUTER_FIELDS, opts.innerFields ?? 'content');
  const der = encryptData(inner, opts);
  const smimeType = (opts.cipher ?? 'aes-256-gcm') === 'aes-256-gcm' ? 'authEnveloped-data' : 'enveloped-data';
  return new Uint8Array(Buffer.concat([outer, Buffer.from('MIME-Version: 1.0\r\n'), pkcs7MimeEntity(der, smimeType)]));
}

/** The message signed: outer fields + MIME-Version + multipart/signed (or opaque pkcs7-mime) over the Content-* fields and body. */
export function signMessage(message: Uint8Array, opts: SignOptions & { opaque?: boolean; outerFields?: readonly string[] }): Uint8Array {
  const entity = splitEntity(message);
  const keep = opts.outerFields ? new Set(opts.outerFields.map((n) => n.toLowerCase())) : undefined;
  const outer = entity.fields.filter((f) => !isContentField(f) && f.name.toLowerCase() !== 'mime-version' && (!keep || keep.has(f.name.toLowerCase())));
  const inner = Buffer.concat([...entity.fields.filter(isContentField).map((f) => withCrlf(f.raw)), CRLF, canonicalize(entity.body)]);
  return new Uint8Array(Buffer.concat([...outer.map((f) => withCrlf(f.raw)), Buffer.from('MIME-Version: 1.0\r\n'), signEntity(inner, opts)]));
}

export type MessageDecryptResult = { ok: true; message: Uint8Array; authenticated: boolean; cipher: string } | { ok: false; reason: string };

/**
 * Reverses encryptMessage: the outer fields (without the pkcs7-mime Content-*
 * and MIME-Version), then the inner entity's fields and body. Inner fields
 * win over outer ones of the same name. Never throws.
 */
export function decryptMessage(message: Uint8Array, opts: DecryptOptions): MessageDecryptResult {
  const parts = parseSmime(message);
  if (parts.kind !== 'pkcs7-mime') return { ok: false, reason: parts.kind === 'malformed' ? parts.reason : 'not an application/pkcs7-mime message' };
  const r: DecryptResult = decryptData(parts.der, opts);
  if (!r.ok) return r;
  try {
    const outer = splitEntity(message);
    const inner = splitEntity(r.content);
    const innerNames = new Set(inner.fields.map((f) => f.name.toLowerCase()));
    const kept = outer.fields.filter((f) => !isContentField(f) && !innerNames.has(f.name.toLowerCase()));
    const mime = field(inner, 'mime-version') ? [] : [Buffer.from('MIME-Version: 1.0\r\n')];
    const head = [...kept.filter((f) => f.name.toLowerCase() !== 'mime-version').map((f) => withCrlf(f.raw)), ...mime];
    return { ok: true, message: new Uint8Array(Buffer.concat([...head, r.content])), authenticated: r.authenticated, cipher: r.cipher };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
