/**
 * CMS encryption for S/MIME: EnvelopedData (RFC 5652, AES-CBC) and
 * AuthEnvelopedData (RFC 5083/5084, AES-GCM) to one or several recipient
 * certificates. RSA recipients get key transport (RSA-OAEP with SHA-256 by
 * default, SHA-1 OAEP or PKCS#1 v1.5 for older clients); EC recipients get
 * ephemeral-static ECDH (dhSinglePass-stdDH-sha256kdf, sha384kdf for P-384)
 * with AES key wrap. Recipients are named by issuer and serial unless asked.
 */
import { constants, createCipheriv, diffieHellman, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { bits, explicit, implicit, octets, oid, seq, set, smallUint, tlv } from '../der.js';
import { CmsError, algId } from './asn1.js';
import { type Cert, type CertInput, keyIdFor, parseCertificate, rawIssuerAndSerial } from './certs.js';
import { deriveKek, wrapKey } from './ecdh.js';
import { OID } from './oids.js';

export type RsaPadding = 'oaep-sha256' | 'oaep-sha1' | 'pkcs1';
export type ContentCipher = 'aes-256-gcm' | 'aes-256-cbc' | 'aes-128-cbc';

export interface Recipient {
  certificate: CertInput;
  /** RSA certificates only; default 'oaep-sha256'. 'pkcs1' is for old clients; Node 20 cannot decrypt it. */
  rsaPadding?: RsaPadding;
  /** How the recipient is named in the message; default issuerAndSerial (what every client understands). */
  recipientId?: 'issuerAndSerial' | 'subjectKeyIdentifier';
}

export interface EncryptOptions {
  recipients: readonly Recipient[];
  /** Default 'aes-256-gcm' (AuthEnvelopedData); the CBC ciphers give EnvelopedData for clients without RFC 5083. */
  cipher?: ContentCipher;
}

const MAX_RECIPIENTS = 256;
const NULL = Buffer.from([0x05, 0x00]);
const CIPHER_OID: Record<ContentCipher, string> = { 'aes-256-gcm': OID.aes256Gcm, 'aes-256-cbc': OID.aes256Cbc, 'aes-128-cbc': OID.aes128Cbc };
const CURVE: Record<string, { kdf: string; wrap: string }> = {
  prime256v1: { kdf: OID.dhSinglePassStdDhSha256Kdf, wrap: OID.aes256Wrap },
  secp384r1: { kdf: OID.dhSinglePassStdDhSha384Kdf, wrap: OID.aes256Wrap },
  secp521r1: { kdf: OID.dhSinglePassStdDhSha512Kdf, wrap: OID.aes256Wrap },
};

function rid(cert: Cert, kind: Recipient['recipientId']): { ias?: Buffer; keyId?: Uint8Array } {
  if (kind === 'subjectKeyIdentifier') return { keyId: keyIdFor(cert) };
  const { issuer, serial } = rawIssuerAndSerial(cert);
  return { ias: seq(issuer, serial) };
}

function ktri(cert: Cert, r: Recipient, cek: Uint8Array): Buffer {
  const padding = r.rsaPadding ?? 'oaep-sha256';
  let alg: Buffer;
  let encryptedKey: Buffer;
  const key = cert.x509.publicKey;
  if (padding === 'pkcs1') {
    alg = algId(OID.rsaEncryption, NULL);
    encryptedKey = publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, cek);
  } else if (padding === 'oaep-sha1') {
    alg = algId(OID.rsaesOaep, seq());
    encryptedKey = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, cek);
  } else {
    alg = algId(OID.rsaesOaep, seq(explicit(0, algId(OID.sha256)), explicit(1, algId(OID.mgf1, algId(OID.sha256)))));
    encryptedKey = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek);
  }
  const id = rid(cert, r.recipientId);
  return id.ias ? seq(smallUint(0), id.ias, alg, octets(encryptedKey)) : seq(smallUint(2), implicit(0, id.keyId!), alg, octets(encryptedKey));
}

/** The uncompressed point of an EC public key. */
function ecPoint(pub: import('node:crypto').KeyObject): Buffer {
  const jwk = pub.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
}

function kari(cert: Cert, r: Recipient, cek: Uint8Array): Buffer {
  const recipientKey = cert.x509.publicKey;
  const curve = recipientKey.asymmetricKeyDetails?.namedCurve ?? '';
  const params = CURVE[curve];
  if (!params) throw new CmsError(`unsupported recipient curve ${curve || 'unknown'}`);
  const eph = generateKeyPairSync('ec', { namedCurve: curve });
  const z = diffieHellman({ privateKey: eph.privateKey, publicKey: recipientKey });
  const kdfHash = params.kdf === OID.dhSinglePassStdDhSha256Kdf ? 'sha256' : params.kdf === OID.dhSinglePassStdDhSha384Kdf ? 'sha384' : 'sha512';
  const kek = deriveKek(kdfHash, z, params.wrap);
  const encryptedKey = wrapKey(kek, cek);
  // originator [0] EXPLICIT { originatorKey [1] IMPLICIT OriginatorPublicKey }
  const originator = explicit(0, tlv(0xa1, Buffer.concat([algId(OID.ecPublicKey), bits(ecPoint(eph.publicKey))])));
  const id = rid(cert, r.recipientId);
  const rekId = id.ias ?? tlv(0xa0, octets(id.keyId!));
  const rek = seq(rekId, octets(encryptedKey));
  // kari is [1] IMPLICIT KeyAgreeRecipientInfo
  return tlv(0xa1, Buffer.concat([smallUint(3), originator, algId(params.kdf, algId(params.wrap)), seq(rek)]));
}

function recipientInfo(r: Recipient, cek: Uint8Array): { info: Buffer; v0: boolean } {
  const cert = parseCertificate(r.certificate);
  const type = cert.x509.publicKey.asymmetricKeyType;
  if (type === 'rsa') return { info: ktri(cert, r, cek), v0: (r.recipientId ?? 'issuerAndSerial') === 'issuerAndSerial' };
  if (type === 'ec') return { info: kari(cert, r, cek), v0: false };
  throw new CmsError(`cannot encrypt to a ${type ?? 'unknown'} key`);
}

/** Encrypts `content` (a MIME entity, usually) and returns a DER ContentInfo. */
export function encryptData(content: Uint8Array, opts: EncryptOptions): Uint8Array {
  const cipher = opts.cipher ?? 'aes-256-gcm';
  if (!CIPHER_OID[cipher]) throw new CmsError(`unknown cipher ${String(cipher)}`);
  if (opts.recipients.length === 0) throw new CmsError('no recipients');
  if (opts.recipients.length > MAX_RECIPIENTS) throw new CmsError(`more than ${MAX_RECIPIENTS} recipients`);
  const cek = randomBytes(cipher === 'aes-128-cbc' ? 16 : 32);
  const infos = opts.recipients.map((r) => recipientInfo(r, cek));
  const recipientInfos = set(...infos.map((i) => i.info));

  if (cipher === 'aes-256-gcm') {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', cek, nonce, { authTagLength: 16 });
    const ct = Buffer.concat([c.update(content), c.final()]);
    const eci = seq(oid(OID.data), algId(OID.aes256Gcm, seq(octets(nonce), smallUint(16))), implicit(0, ct));
    const aed = seq(smallUint(0), recipientInfos, eci, octets(c.getAuthTag()));
    return new Uint8Array(seq(oid(OID.authEnvelopedData), explicit(0, aed)));
  }
  const iv = randomBytes(16);
  const c = createCipheriv(cipher, cek, iv);
  const ct = Buffer.concat([c.update(content), c.final()]);
  const eci = seq(oid(OID.data), algId(CIPHER_OID[cipher], octets(iv)), implicit(0, ct));
  const version = infos.every((i) => i.v0) ? 0 : 2;
  const ed = seq(smallUint(version), recipientInfos, eci);
  return new Uint8Array(seq(oid(OID.envelopedData), explicit(0, ed)));
}
