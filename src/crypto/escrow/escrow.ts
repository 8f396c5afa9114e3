/**
 * Key escrow with M-of-N recovery. Each escrowed key gets its own random
 * 32-byte key K: K encrypts the user's PKCS#8 with AES-256-GCM, and K is split
 * with Shamir's scheme into one share per key-recovery officer, each share
 * sealed in CMS AuthEnvelopedData to that officer's certificate. K is never
 * stored whole, and recovering one user's key reassembles a K that opens
 * nothing else.
 */
import { X509Certificate, createCipheriv, createDecipheriv, createHash, randomBytes, type KeyObject } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { decryptData, encryptData } from '../smime/index.js';
import { ESCROW_VERSION, MAX_OFFICERS, type EscrowRecord, escrowRecordSchema, parseWith, shareContentSchema } from './schema.js';

export class EscrowError extends Error {}

const KEY_BYTES = 32;
/** A share is the secret's length plus one byte: the point's x coordinate. */
const SHARE_BYTES = KEY_BYTES + 1;
const MAX_KEY_DER = 48 * 1024;

export interface EscrowOfficer {
  address: string;
  /** The officer's certificate (DER): RSA (OAEP) or EC (ECDH) — what the S/MIME library encrypts to. */
  certificateDer: Uint8Array;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Buffer => Buffer.from(s, 'base64');
const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Binds the ciphertext to the certificate it belongs to and to the format version. */
const aad = (certFingerprint: string): Buffer => Buffer.from(`postern-escrow-v${ESCROW_VERSION}:${certFingerprint}`, 'utf8');

export function parseEscrowRecord(input: unknown): EscrowRecord {
  const r = parseWith(escrowRecordSchema, input, 'escrow record', (m) => new EscrowError(m));
  if (r.threshold > r.shares.length) throw new EscrowError(`escrow record: threshold ${r.threshold} exceeds its ${r.shares.length} shares`);
  if (new Set(r.shares.map((s) => s.address)).size !== r.shares.length) throw new EscrowError('escrow record: an officer holds two shares');
  return r;
}

/**
 * Encrypts `pkcs8Der` under a fresh key and splits that key among `officers`,
 * any `threshold` of whom can recover it. Returns a JSON-able record.
 */
export async function escrowKey(pkcs8Der: Uint8Array, certFingerprint: string, officers: readonly EscrowOfficer[], threshold: number): Promise<EscrowRecord> {
  if (!/^[0-9a-f]{64}$/.test(certFingerprint)) throw new EscrowError('certificate fingerprint: 64 lowercase hex digits (SHA-256 of the DER)');
  if (pkcs8Der.length === 0 || pkcs8Der.length > MAX_KEY_DER) throw new EscrowError(`the key to escrow must be 1 to ${MAX_KEY_DER} bytes of PKCS#8`);
  if (officers.length < 2 || officers.length > MAX_OFFICERS) throw new EscrowError(`escrow needs 2 to ${MAX_OFFICERS} officers (got ${officers.length})`);
  if (!Number.isSafeInteger(threshold) || threshold < 2 || threshold > officers.length) throw new EscrowError(`threshold must be from 2 to the number of officers (${officers.length})`);
  if (new Set(officers.map((o) => o.address)).size !== officers.length) throw new EscrowError('each officer may be listed once');

  const k = randomBytes(KEY_BYTES);
  try {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', k, nonce, { authTagLength: 16 });
    c.setAAD(aad(certFingerprint));
    const ciphertext = Buffer.concat([c.update(pkcs8Der), c.final()]);
    const tag = c.getAuthTag();
    const parts = await split(new Uint8Array(k), officers.length, threshold);
    const shares = officers.map((o, i) => {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(o.certificateDer);
      } catch {
        throw new EscrowError(`${o.address}: not a certificate`);
      }
      const content = Buffer.from(JSON.stringify({ postern: 'escrow-share', v: ESCROW_VERSION, certFingerprint, share: b64(parts[i]!) }), 'utf8');
      let envelope: Uint8Array;
      try {
        envelope = encryptData(content, { recipients: [{ certificate: new Uint8Array(cert.raw) }] });
      } catch (e) {
        throw new EscrowError(`${o.address}: cannot encrypt a share to this certificate: ${(e as Error).message}`);
      } finally {
        content.fill(0);
        parts[i]!.fill(0);
      }
      return { address: o.address, certFingerprint: sha256hex(cert.raw), certificate: b64(cert.raw), envelope: b64(envelope) };
    });
    return { v: ESCROW_VERSION, certFingerprint, threshold, nonce: b64(nonce), ciphertext: b64(ciphertext), tag: b64(tag), shares };
  } finally {
    k.fill(0);
  }
}

/**
 * Opens one officer's share envelope with the officer's key. `certFingerprint`
 * is the escrowed certificate's: a share of another record is refused.
 */
export function openShare(envelopeDer: Uint8Array, officerCertificateDer: Uint8Array, officerKey: KeyObject, certFingerprint: string): Uint8Array {
  const r = decryptData(envelopeDer, { certificate: officerCertificateDer, key: officerKey });
  if (!r.ok) throw new EscrowError(`the share does not open with this key: ${r.reason}`);
  if (!r.authenticated) throw new EscrowError('the share envelope is not authenticated (AES-GCM expected)');
  const text = Buffer.from(r.content).toString('utf8');
  const content = parseWith(shareContentSchema, text, 'share', (m) => new EscrowError(m));
  if (content.certFingerprint !== certFingerprint) throw new EscrowError('the share belongs to another escrowed certificate');
  const share = unb64(content.share);
  if (share.length !== SHARE_BYTES) throw new EscrowError(`a share is ${SHARE_BYTES} bytes (got ${share.length})`);
  return new Uint8Array(share);
}

/**
 * Reassembles K from shares and decrypts the escrowed key. Fewer than the
 * threshold (or a wrong share) gives a wrong K, which AES-GCM refuses: a
 * wrong key is never returned.
 */
export async function recoverKey(record: EscrowRecord, shares: readonly Uint8Array[]): Promise<Uint8Array> {
  const rec = parseEscrowRecord(record);
  for (const s of shares) if (s.length !== SHARE_BYTES) throw new EscrowError(`a share is ${SHARE_BYTES} bytes (got ${s.length})`);
  // One share per x coordinate: the same share twice counts once.
  const distinct = [...new Map(shares.map((s) => [s[SHARE_BYTES - 1]!, s])).values()];
  if (distinct.length < rec.threshold) throw new EscrowError(`not enough shares: ${distinct.length} of ${rec.threshold}; nothing recovered`);
  let k: Uint8Array | undefined;
  try {
    k = await combine(distinct.map((s) => new Uint8Array(s)));
    const d = createDecipheriv('aes-256-gcm', k, unb64(rec.nonce), { authTagLength: 16 });
    d.setAAD(aad(rec.certFingerprint));
    d.setAuthTag(unb64(rec.tag));
    return new Uint8Array(Buffer.concat([d.update(unb64(rec.ciphertext)), d.final()]));
  } catch {
    throw new EscrowError('the shares do not reassemble the escrow key (a wrong or changed share, or a changed record); nothing recovered');
  } finally {
    k?.fill(0);
  }
}
