/**
 * Moving a share from an officer to a recovery request: the officer seals it
 * to the request's public key (ECIES: ephemeral P-256 ECDH, HKDF-SHA256,
 * AES-256-GCM, the context bound as AAD), and only the holder of the
 * request's private key — kept under the requester's passphrase with scrypt
 * and AES-256-GCM — can unseal it. P-256 rather than RSA-3072: a request key
 * is made in a millisecond, and the officer's share never meets RSA padding.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, scryptSync, type KeyObject } from 'node:crypto';
import { EscrowError } from './escrow.js';
import { type ProtectedKey, type SealedShare, parseWith, protectedKeySchema, sealedShareSchema } from './schema.js';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Buffer => Buffer.from(s, 'base64');
const INFO = 'postern escrow share seal v1';

export interface RequestKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export function newRequestKey(): RequestKeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

/** The request's public key as base64 SPKI DER, for the request file. */
export const exportRequestPublicKey = (k: KeyObject): string => b64(k.export({ type: 'spki', format: 'der' }));

export function importRequestPublicKey(spkiB64: string): KeyObject {
  let k: KeyObject;
  try {
    k = createPublicKey({ key: unb64(spkiB64), format: 'der', type: 'spki' });
  } catch {
    throw new EscrowError('request public key: not an SPKI public key');
  }
  if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new EscrowError('request public key: not a P-256 key');
  return k;
}

function point(k: KeyObject): Buffer {
  const jwk = k.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
}

function fromPoint(p: Buffer): KeyObject {
  if (p.length !== 65 || p[0] !== 4) throw new EscrowError('sealed share: the ephemeral key is not an uncompressed P-256 point');
  try {
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: p.subarray(1, 33).toString('base64url'), y: p.subarray(33).toString('base64url') }, format: 'jwk' });
  } catch {
    throw new EscrowError('sealed share: the ephemeral key is not on the curve');
  }
}

function kek(z: Buffer, epk: Buffer, context: string): Buffer {
  return Buffer.from(hkdfSync('sha256', z, epk, `${INFO}\n${context}`, 32));
}

/**
 * Seals `share` to the request's public key. `context` (the request id, the
 * officer, a digest of the request) is authenticated: a sealed share moved to
 * another request or officer does not unseal.
 */
export function sealShare(share: Uint8Array, requestPublicKey: KeyObject, context: string): SealedShare {
  const eph = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const epk = point(eph.publicKey);
  const key = kek(diffieHellman({ privateKey: eph.privateKey, publicKey: requestPublicKey }), epk, context);
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([c.update(share), c.final()]);
  key.fill(0);
  return { alg: 'ecies-p256-hkdf-sha256-aes256gcm', epk: b64(epk), nonce: b64(nonce), ciphertext: b64(ciphertext), tag: b64(c.getAuthTag()) };
}

export function unsealShare(sealed: unknown, requestPrivateKey: KeyObject, context: string): Uint8Array {
  const s = parseWith(sealedShareSchema, sealed, 'sealed share', (m) => new EscrowError(m));
  const epk = unb64(s.epk);
  const peer = fromPoint(epk);
  let key: Buffer;
  try {
    key = kek(diffieHellman({ privateKey: requestPrivateKey, publicKey: peer }), epk, context);
  } catch {
    throw new EscrowError('sealed share: the request key is not a P-256 private key');
  }
  try {
    const d = createDecipheriv('aes-256-gcm', key, unb64(s.nonce), { authTagLength: 16 });
    d.setAAD(Buffer.from(context, 'utf8'));
    d.setAuthTag(unb64(s.tag));
    return new Uint8Array(Buffer.concat([d.update(unb64(s.ciphertext)), d.final()]));
  } catch {
    throw new EscrowError('sealed share: authentication failed (changed, or sealed to another request or officer)');
  } finally {
    key.fill(0);
  }
}

const SCRYPT = { logN: 15, r: 8, p: 1 };
const scryptKey = (pass: string, salt: Buffer, p: { logN: number; r: number; p: number }): Buffer =>
  scryptSync(Buffer.from(pass.normalize('NFC'), 'utf8'), salt, 32, { N: 2 ** p.logN, r: p.r, p: p.p, maxmem: 256 * 2 ** p.logN * p.r + 1024 * 1024 });

/** The request's private key under a passphrase (scrypt N=2^15, r=8, p=1; AES-256-GCM). */
export function protectKey(key: KeyObject, passphrase: string): ProtectedKey {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const k = scryptKey(passphrase, salt, SCRYPT);
  const c = createCipheriv('aes-256-gcm', k, nonce, { authTagLength: 16 });
  c.setAAD(Buffer.from('postern escrow request key v1', 'utf8'));
  const ciphertext = Buffer.concat([c.update(der), c.final()]);
  k.fill(0);
  der.fill(0);
  return { kdf: 'scrypt', ...SCRYPT, salt: b64(salt), nonce: b64(nonce), ciphertext: b64(ciphertext), tag: b64(c.getAuthTag()) };
}

export function openProtectedKey(input: unknown, passphrase: string): KeyObject {
  const p = parseWith(protectedKeySchema, input, 'protected key', (m) => new EscrowError(m));
  const k = scryptKey(passphrase, unb64(p.salt), p);
  let der: Buffer;
  try {
    const d = createDecipheriv('aes-256-gcm', k, unb64(p.nonce), { authTagLength: 16 });
    d.setAAD(Buffer.from('postern escrow request key v1', 'utf8'));
    d.setAuthTag(unb64(p.tag));
    der = Buffer.concat([d.update(unb64(p.ciphertext)), d.final()]);
  } catch {
    throw new EscrowError('wrong passphrase (the one given with the recovery request)');
  } finally {
    k.fill(0);
  }
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    throw new EscrowError('protected key: not a PKCS#8 key');
  } finally {
    der.fill(0);
  }
}
