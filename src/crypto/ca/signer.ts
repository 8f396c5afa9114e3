/**
 * The CA key lives behind a Signer: this library hands it the bytes to sign
 * (a TBSCertificate or TBSCertList) and never sees the key, so a later step
 * can put the key in a hardware token (PKCS#11) where it cannot be copied.
 * `softwareSigner` wraps a node:crypto KeyObject for tests and small setups.
 * Every signature a Signer returns is checked against its public key before
 * it goes into a certificate: a faulty token, a wrong key or an RSA CRT fault
 * (which can leak the key, Lenstra) must not produce a certificate.
 */
import { createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { seq, uint } from '../der.js';
import { algId } from '../smime/asn1.js';
import { OID } from '../smime/oids.js';

export type SignerAlgorithm = 'rsa-pkcs1-sha256' | 'ecdsa-sha256' | 'ecdsa-sha384';

export interface Signer {
  algorithm: SignerAlgorithm;
  /** The signing key's SubjectPublicKeyInfo, DER. */
  publicKeySpki: Uint8Array;
  /**
   * Signs the message (hashing it with the algorithm's digest). RSA: the
   * PKCS#1 v1.5 signature; ECDSA: a DER ECDSA-Sig-Value (a token that returns
   * raw r||s, as PKCS#11 does, converts with `ecdsaRawToDer`).
   */
  sign(tbs: Uint8Array): Promise<Uint8Array>;
}

export class CaError extends Error {
  override name = 'CaError';
}

const HASH: Record<SignerAlgorithm, 'sha256' | 'sha384'> = { 'rsa-pkcs1-sha256': 'sha256', 'ecdsa-sha256': 'sha256', 'ecdsa-sha384': 'sha384' };
const NULL = Buffer.from([0x05, 0x00]);

/** The signatureAlgorithm AlgorithmIdentifier for certificates and CRLs (RFC 4055, RFC 5758). */
export function signatureAlgorithm(alg: SignerAlgorithm): Buffer {
  if (alg === 'rsa-pkcs1-sha256') return algId(OID.sha256WithRsa, NULL);
  return algId(alg === 'ecdsa-sha256' ? OID.ecdsaWithSha256 : OID.ecdsaWithSha384);
}

/** The algorithm a key signs with here: RSA → PKCS#1 v1.5 SHA-256, P-256 → ECDSA SHA-256, P-384 → ECDSA SHA-384. */
export function algorithmForKey(key: KeyObject): SignerAlgorithm {
  const t = key.asymmetricKeyType;
  if (t === 'rsa') return 'rsa-pkcs1-sha256';
  const curve = t === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  if (curve === 'prime256v1') return 'ecdsa-sha256';
  if (curve === 'secp384r1') return 'ecdsa-sha384';
  throw new CaError(`unsupported CA key: ${t ?? 'unknown'}${curve ? ` ${curve}` : ''} (RSA, P-256 or P-384)`);
}

/** A Signer over a private KeyObject held in this process. */
export function softwareSigner(privateKey: KeyObject): Signer {
  if (privateKey.type !== 'private') throw new CaError('softwareSigner needs a private key');
  const algorithm = algorithmForKey(privateKey);
  const publicKeySpki = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  return {
    algorithm,
    publicKeySpki,
    sign: (tbs) => Promise.resolve(new Uint8Array(nodeSign(HASH[algorithm], tbs, { key: privateKey, dsaEncoding: 'der' }))),
  };
}

/** Signs through the Signer and refuses a signature that does not verify under its public key. */
export async function signChecked(signer: Signer, tbs: Uint8Array): Promise<Uint8Array> {
  const hash = HASH[signer.algorithm];
  if (!hash) throw new CaError(`unsupported signer algorithm: ${String(signer.algorithm)}`);
  let signature: Uint8Array;
  try {
    signature = await signer.sign(tbs);
  } catch (err) {
    throw new CaError(`the signer failed: ${(err as Error).message}`);
  }
  let ok = false;
  try {
    const key = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
    ok = nodeVerify(hash, tbs, { key, dsaEncoding: 'der' }, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new CaError('the signer returned a signature that does not verify under its public key');
  return signature;
}

/** IEEE P1363 r||s (what PKCS#11 CKM_ECDSA returns) → DER ECDSA-Sig-Value. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new CaError('raw ECDSA signature must be r||s of equal halves');
  const half = raw.length / 2;
  return new Uint8Array(seq(uint(raw.subarray(0, half)), uint(raw.subarray(half))));
}

