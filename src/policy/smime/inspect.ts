/**
 * What the `smime` stage needs to know about a message, worked out in a pool
 * worker (task 'smime.verify'): whether it is signed (multipart/signed or
 * opaque signed-data, at the top or one level down in multipart/mixed) or
 * encrypted (pkcs7-mime enveloped/authEnveloped, multipart/encrypted), the
 * signature's verdict against the trust anchors, the From addresses and, for a
 * valid signature, the signer's certificate. Never throws: a message that
 * cannot be read is `malformed`, never an exception.
 */
import { createHash } from 'node:crypto';
import { type Cert, type SignatureStatus, parseCertificates, parseSmime, verifySmime } from '../../crypto/smime/index.js';
import { type MimeMessage, type MimePart, headerValue, paramValue, parseAddressList } from '../../codec/mime/index.js';
import { parseOnce } from '../pool/parse-memo.js';

export interface SmimeInspection {
  readonly signed: boolean;
  readonly encrypted: boolean;
  /** Set when signed. */
  readonly status?: SignatureStatus;
  readonly reason?: string;
  readonly signer?: { readonly email?: string; readonly subject: string; readonly fingerprint: string };
  /** DER of the signer's certificate, only for a `valid` verdict (the caller may learn it). */
  readonly signerCert?: Uint8Array;
  /** Where the signature was found. */
  readonly where?: 'top' | 'mixed';
  /** The From addresses, lower-cased (at most MAX_FROM). */
  readonly from: readonly string[];
  /** An X-Postern-SMIME field came with the message (ours are added after this look). */
  readonly forgedHeader: boolean;
}

const MAX_FROM = 8;
const MAX_CHILDREN = 64;
const MAX_REASON = 200;
const P7M = new Set(['pkcs7-mime', 'x-pkcs7-mime']);
// DER of the signedData OID (1.2.840.113549.1.7.2), found near the start of an opaque signed body.
const SIGNED_DATA_OID = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]);

type Kind = 'signed' | 'encrypted' | null;

function isP7m(p: MimePart): boolean {
  const t = p.contentType;
  if (t.type === 'application' && P7M.has(t.subtype)) return true;
  return t.type === 'application' && t.subtype === 'octet-stream' && /\.p7m$/i.test(paramValue(t.params, 'name') ?? '');
}

/** The S/MIME kind of one entity: by its type, by smime-type, else by the CMS content type in its body. */
function kindOf(msg: MimeMessage, p: MimePart): Kind {
  const t = p.contentType;
  if (t.type === 'multipart' && t.subtype === 'signed') return 'signed';
  if (t.type === 'multipart' && t.subtype === 'encrypted') return 'encrypted';
  if (!isP7m(p)) return null;
  const smime = (paramValue(t.params, 'smime-type') ?? '').toLowerCase();
  if (smime === 'signed-data') return 'signed';
  if (smime === 'enveloped-data' || smime === 'authenveloped-data') return 'encrypted';
  if (smime !== '') return null; // certs-only, compressed-data
  const parts = parseSmime(entityBytes(msg, p));
  if (parts.kind !== 'pkcs7-mime') return null;
  return Buffer.from(parts.der.subarray(0, 64)).indexOf(SIGNED_DATA_OID) >= 0 ? 'signed' : 'encrypted';
}

const entityBytes = (msg: MimeMessage, p: MimePart): Uint8Array => msg.buf.subarray(p.headerStart, p.bodyEnd);

function fromAddresses(root: MimePart): string[] {
  const value = headerValue(root.header.fields, 'from');
  if (value === null) return [];
  const out: string[] = [];
  for (const a of parseAddressList(value)) for (const m of a.group ?? [a]) if (m.address !== '' && out.length < MAX_FROM) out.push(m.address.toLowerCase());
  return out;
}

// The worker keeps the parsed anchors while the PEM it is sent stays the same (parsing costs ~2 ms a certificate).
let anchorCache: { pem: string; certs: Cert[] } | null = null;

function anchorsOf(pem: string): Cert[] {
  if (pem.trim() === '') return [];
  if (anchorCache?.pem !== pem) anchorCache = { pem, certs: parseCertificates(pem) };
  return anchorCache.certs;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Looks at a message: `anchorsPem` is the trust anchors file's text ('' for none), `at` the arrival time (ms). */
export function inspectSmime(raw: Uint8Array, anchorsPem: string, at: number): SmimeInspection {
  const msg = parseOnce(raw);
  const root = msg.root;
  const from = fromAddresses(root);
  const forgedHeader = headerValue(root.header.fields, 'x-postern-smime') !== null;
  const base = { from, forgedHeader };
  let target: MimePart | null = null;
  let where: 'top' | 'mixed' = 'top';
  const top = kindOf(msg, root);
  if (top === 'encrypted') return { signed: false, encrypted: true, ...base };
  if (top === 'signed') target = root;
  else if (root.contentType.type === 'multipart' && root.contentType.subtype === 'mixed') {
    target = root.children.slice(0, MAX_CHILDREN).find((c) => kindOf(msg, c) === 'signed') ?? null;
    where = 'mixed';
  }
  if (!target) return { signed: false, encrypted: false, ...base };

  let anchors: Cert[];
  try {
    anchors = anchorsOf(anchorsPem);
  } catch (e) {
    // Checked when the server starts; a file that broke since is every signature's problem, not the sender's.
    return { signed: true, encrypted: false, status: 'untrusted', reason: `trust anchors unreadable: ${(e as Error).message}`.slice(0, MAX_REASON), where, ...base };
  }
  // The whole message at the top (its header holds the Content-Type), else the part as it sits in the message.
  const v = verifySmime(target === root ? raw : entityBytes(msg, target), { anchors, at: new Date(at) });
  const signer = v.signer ? { subject: v.signer.subject.slice(0, MAX_REASON), fingerprint: v.signer.fingerprint, ...(v.signer.email ? { email: v.signer.email } : {}) } : undefined;
  const signerCert = v.status === 'valid' && v.signer ? v.certificates?.find((d) => sha256(d) === v.signer!.fingerprint) : undefined;
  return {
    signed: true,
    encrypted: false,
    status: v.status,
    reason: v.reason.slice(0, MAX_REASON),
    where,
    ...(signer ? { signer } : {}),
    ...(signerCert ? { signerCert: new Uint8Array(signerCert) } : {}),
    ...base,
  };
}
