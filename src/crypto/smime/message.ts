/**
 * Whole RFC 5322 messages through S/MIME: the header fields the caller names
 * stay outside (so a mailbox can still list and thread the message), the
 * body and its Content-* fields become the protected inner entity, which is
 * encrypted or signed. The caller chooses the outer list, so an at-rest
 * policy can decide how much metadata stays readable.
 */
import { encryptData, type EncryptOptions } from './envelope.js';
import { decryptData, type DecryptOptions, type DecryptResult } from './decrypt.js';
import { type HeaderField, canonicalize, field, parseContentType, splitEntity } from './entity.js';
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

const ENCRYPTED_SMIME = new Set(['enveloped-data', 'authenveloped-data']);
const P7M = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);

/** True for application/pkcs7-mime enveloped/authEnveloped data and multipart/encrypted (PGP/MIME). Reads the header only. */
export function alreadyEncrypted(raw: Uint8Array): boolean {
  try {
    const ct = parseContentType(field(splitEntity(raw), 'content-type'));
    if (ct.type === 'multipart/encrypted') return true;
    return P7M.has(ct.type) && ENCRYPTED_SMIME.has((ct.params['smime-type'] ?? '').toLowerCase());
  } catch {
    return false; // an unreadable header is not a sign of encryption: it gets encrypted like any other
  }
}

/**
 * The header fields to keep outside an encrypted whole message: those named
 * (case-insensitive), or 'all' of them, as they were written, in their order,
 * each ending CRLF. Content-* and MIME-Version never (the encrypted form
 * writes its own); none when the header is unreadable.
 */
export function outerHeader(raw: Uint8Array, names: readonly string[] | 'all'): Uint8Array {
  const keep = names === 'all' ? null : new Set(names.map((n) => n.toLowerCase()));
  let fields: HeaderField[];
  try {
    fields = splitEntity(raw).fields;
  } catch {
    return new Uint8Array(0);
  }
  const out: Uint8Array[] = [];
  for (const f of fields) {
    const name = f.name.toLowerCase();
    if (name.startsWith('content-') || name === 'mime-version' || (keep && !keep.has(name))) continue;
    const end = f.raw.length;
    out.push(f.raw[end - 1] === 10 ? (f.raw[end - 2] === 13 ? f.raw : Buffer.concat([f.raw.subarray(0, end - 1), CRLF])) : Buffer.concat([f.raw, CRLF]));
  }
  return new Uint8Array(Buffer.concat(out));
}

/**
 * A whole message sealed by the worker task that encrypts it as one entity
 * (the message, header included, is the enveloped content): the outer fields
 * of `raw`, MIME-Version, then `entity` (the application/pkcs7-mime header
 * and base64 body). Used by encryption at rest and by outbound encryption.
 */
export function sealedMessage(raw: Uint8Array, entity: Uint8Array, outer: readonly string[] | 'all'): Uint8Array {
  return new Uint8Array(Buffer.concat([outerHeader(raw, outer), Buffer.from('MIME-Version: 1.0\r\n'), entity]));
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
