/**
 * RFC 8551 wrapping: multipart/signed (RFC 1847) with an
 * application/pkcs7-signature part, and application/pkcs7-mime bodies
 * (signed-data, enveloped-data, authEnveloped-data), built and parsed. The
 * parser finds the signed entity as the exact bytes between the delimiters;
 * verification hashes its canonical (CRLF) form, and the bytes as sent when
 * that does not match (senders that signed bare LFs).
 */
import { randomBytes } from 'node:crypto';
import { type Entity, EntityError, base64Lines, canonicalize, decodeBase64, field, parseContentType, splitEntity } from './entity.js';
import { type SignOptions, signData, signingHash } from './sign.js';
import { type SignatureVerdict, type VerifyOptions, verifySignedData } from './verify.js';

export type SmimeType = 'signed-data' | 'enveloped-data' | 'authEnveloped-data';

const MICALG: Record<string, string> = { sha256: 'sha-256', sha384: 'sha-384', sha512: 'sha-512' };
const SIGNATURE_TYPES = new Set(['application/pkcs7-signature', 'application/x-pkcs7-signature']);
const P7M_TYPES = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);

const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const join = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** An application/pkcs7-mime entity (header fields + base64 body) around a DER ContentInfo. */
export function pkcs7MimeEntity(der: Uint8Array, smimeType: SmimeType): Uint8Array {
  return text(
    `Content-Type: application/pkcs7-mime; smime-type=${smimeType}; name=smime.p7m\r\n` +
      'Content-Transfer-Encoding: base64\r\n' +
      'Content-Disposition: attachment; filename=smime.p7m\r\n\r\n' +
      base64Lines(der),
  );
}

/** multipart/signed around an entity (canonicalised here) and its detached signature. */
export function multipartSigned(entity: Uint8Array, p7s: Uint8Array, hash: 'sha256' | 'sha384' | 'sha512' = 'sha256', boundary = `----=_smime_${randomBytes(12).toString('hex')}`): Uint8Array {
  const signed = canonicalize(entity);
  return join(
    text(
      `Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=${MICALG[hash]};\r\n boundary="${boundary}"\r\n\r\n` +
        `This is an S/MIME signed message\r\n\r\n--${boundary}\r\n`,
    ),
    signed,
    text(
      `\r\n--${boundary}\r\n` +
        'Content-Type: application/pkcs7-signature; name=smime.p7s\r\n' +
        'Content-Transfer-Encoding: base64\r\n' +
        'Content-Disposition: attachment; filename=smime.p7s\r\n\r\n' +
        base64Lines(p7s) +
        `\r\n--${boundary}--\r\n`,
    ),
  );
}

/** Signs a MIME entity: detached → multipart/signed, or opaque → pkcs7-mime signed-data. */
export function signEntity(entity: Uint8Array, opts: SignOptions & { opaque?: boolean }): Uint8Array {
  const canonical = canonicalize(entity);
  if (opts.opaque) return pkcs7MimeEntity(signData(canonical, { ...opts, detached: false }), 'signed-data');
  const der = signData(canonical, { ...opts, detached: true });
  return multipartSigned(canonical, der, signingHash(opts));
}

export type SmimeParts =
  | { kind: 'signed'; protocol: string; micalg?: string; /** exact bytes as transmitted */ signedEntity: Uint8Array; signature: Uint8Array }
  | { kind: 'pkcs7-mime'; smimeType?: string; der: Uint8Array }
  | { kind: 'none'; contentType: string }
  | { kind: 'malformed'; reason: string };

const isLineEnd = (b: number | undefined): boolean => b === 0x0a || b === 0x0d;

/**
 * Positions of the boundary delimiter lines in a multipart body: for each,
 * where its preceding line break starts (the break belongs to the delimiter)
 * and where the next part begins.
 */
function delimiters(body: Uint8Array, boundary: string): { before: number; after: number; close: boolean }[] {
  const dash = Buffer.from(`--${boundary}`, 'latin1');
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const out: { before: number; after: number; close: boolean }[] = [];
  let from = 0;
  while (out.length < 1000) {
    const at = buf.indexOf(dash, from);
    if (at < 0) break;
    from = at + dash.length;
    if (at > 0 && !isLineEnd(buf[at - 1])) continue;
    let before = at;
    if (at >= 2 && buf[at - 2] === 0x0d && buf[at - 1] === 0x0a) before = at - 2;
    else if (at >= 1) before = at - 1;
    let p = at + dash.length;
    const close = buf[p] === 0x2d && buf[p + 1] === 0x2d;
    if (close) p += 2;
    while (buf[p] === 0x20 || buf[p] === 0x09) p++;
    if (p < buf.length && !isLineEnd(buf[p])) continue; // a longer boundary that starts with ours
    if (buf[p] === 0x0d && buf[p + 1] === 0x0a) p += 2;
    else if (p < buf.length) p++;
    out.push({ before, after: p, close });
    if (close) break;
  }
  return out;
}

/** Finds the S/MIME structure of an entity or whole message; never throws. */
export function parseSmime(bytes: Uint8Array): SmimeParts {
  try {
    const entity = splitEntity(bytes);
    const ct = parseContentType(field(entity, 'content-type'));
    if (ct.type === 'multipart/signed') return parseSigned(entity, ct.params);
    if (P7M_TYPES.has(ct.type) || (ct.type === 'application/octet-stream' && /\.p7m$/i.test(ct.params['name'] ?? ''))) {
      const der = bodyBytes(entity);
      const smimeType = ct.params['smime-type'];
      return smimeType ? { kind: 'pkcs7-mime', smimeType, der } : { kind: 'pkcs7-mime', der };
    }
    return { kind: 'none', contentType: ct.type };
  } catch (err) {
    return { kind: 'malformed', reason: (err as Error).message };
  }
}

function bodyBytes(entity: Entity): Uint8Array {
  const cte = (field(entity, 'content-transfer-encoding') ?? '7bit').toLowerCase();
  if (cte === 'base64') return decodeBase64(entity.body);
  if (cte === 'binary' || cte === '8bit' || cte === '7bit') return entity.body;
  throw new EntityError(`unsupported Content-Transfer-Encoding for CMS: ${cte}`);
}

function parseSigned(entity: Entity, params: Record<string, string>): SmimeParts {
  const protocol = (params['protocol'] ?? '').toLowerCase();
  if (!SIGNATURE_TYPES.has(protocol)) return { kind: 'malformed', reason: `multipart/signed with protocol ${JSON.stringify(protocol)}` };
  const boundary = params['boundary'];
  if (!boundary || boundary.length > 200) return { kind: 'malformed', reason: 'multipart/signed without a usable boundary' };
  const d = delimiters(entity.body, boundary);
  if (d.length < 3 || d[0]!.close || d[1]!.close || !d[2]!.close) return { kind: 'malformed', reason: 'multipart/signed must have exactly two parts' };
  const signedEntity = entity.body.subarray(d[0]!.after, d[1]!.before);
  const sigPart = splitEntity(entity.body.subarray(d[1]!.after, d[2]!.before));
  const sigType = parseContentType(field(sigPart, 'content-type')).type;
  if (!SIGNATURE_TYPES.has(sigType)) return { kind: 'malformed', reason: `second part is ${sigType}, not a signature` };
  const signature = bodyBytes(sigPart);
  const micalg = params['micalg'];
  return micalg ? { kind: 'signed', protocol, micalg, signedEntity, signature } : { kind: 'signed', protocol, signedEntity, signature };
}

export type SmimeVerdict = SignatureVerdict & { kind?: 'detached' | 'opaque'; /** the signed MIME entity */ entity?: Uint8Array };

/** Parses and verifies a signed entity or message (multipart/signed or pkcs7-mime signed-data); never throws. */
export function verifySmime(bytes: Uint8Array, opts: Omit<VerifyOptions, 'content'>): SmimeVerdict {
  const parts = parseSmime(bytes);
  if (parts.kind === 'malformed') return { status: 'malformed', reason: parts.reason };
  if (parts.kind === 'none') return { status: 'malformed', reason: `not signed (${parts.contentType})` };
  if (parts.kind === 'pkcs7-mime') {
    if (parts.smimeType && parts.smimeType.toLowerCase() !== 'signed-data') return { status: 'malformed', reason: `smime-type ${parts.smimeType} is not signed-data` };
    const v = verifySignedData(parts.der, opts);
    return v.content ? { ...v, kind: 'opaque', entity: v.content } : { ...v, kind: 'opaque' };
  }
  const canonical = canonicalize(parts.signedEntity);
  const v = verifySignedData(parts.signature, { ...opts, content: canonical });
  if (v.status === 'tampered' && canonical !== parts.signedEntity) {
    const exact = verifySignedData(parts.signature, { ...opts, content: parts.signedEntity });
    if (exact.status !== 'tampered') return { ...exact, kind: 'detached', entity: parts.signedEntity };
  }
  return { ...v, kind: 'detached', entity: canonical };
}
