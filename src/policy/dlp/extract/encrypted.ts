/**
 * Whether a MIME part is a message encrypted as a whole: S/MIME
 * (application/pkcs7-mime enveloped or authEnveloped data), PGP/MIME
 * (multipart/encrypted) or inline PGP armour. Opaque signed S/MIME is not
 * encrypted: its content is inside the signature (see cms.ts).
 */
import { paramValue, type MimePart } from '../../../codec/mime/index.js';

export type WholeMessage = 'encrypted' | 'signed' | null;

/** DER of the signedData OID (1.2.840.113549.1.7.2). */
const SIGNED_DATA_OID = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]);

function isPkcs7(part: MimePart): boolean {
  const t = part.contentType;
  return t.type === 'application' && (t.subtype === 'pkcs7-mime' || t.subtype === 'x-pkcs7-mime');
}

/**
 * 'encrypted' for an encrypted entity, 'signed' for opaque signed S/MIME,
 * null otherwise. `body` is the decoded body (needed only for S/MIME without
 * an smime-type, where the content type's OID near the start decides).
 */
export function wholeMessageKind(part: MimePart, body: () => Uint8Array): WholeMessage {
  const t = part.contentType;
  if (t.type === 'multipart' && t.subtype === 'encrypted') return 'encrypted';
  if (!isPkcs7(part)) return null;
  const smime = (paramValue(t.params, 'smime-type') ?? '').toLowerCase();
  if (smime === 'enveloped-data' || smime === 'authenveloped-data') return 'encrypted';
  if (smime === 'signed-data') return 'signed';
  if (smime === 'certs-only' || smime === 'compressed-data') return null;
  const head = Buffer.from(body().subarray(0, 64));
  return head.indexOf(SIGNED_DATA_OID) >= 0 ? 'signed' : 'encrypted';
}

export const PGP_ARMOUR = '-----BEGIN PGP MESSAGE-----';
