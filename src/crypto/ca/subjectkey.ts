/**
 * The key policy for every key this CA certifies or signs with: RSA 2048 to
 * 8192 bits with a sane public exponent, or EC P-256/P-384 on a named curve
 * (explicit curve parameters are refused, RFC 5480). Keys arrive in
 * requests from users, so the SPKI is parsed with the bounded reader and
 * re-encoded by node:crypto before it goes into a certificate.
 */
import { createHash, createPublicKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import { bytesOf, children, oidOf, parseDer } from '../smime/asn1.js';
import { OID } from '../smime/oids.js';
import { CaError } from './signer.js';

const P256 = '1.2.840.10045.3.1.7';
const P384 = '1.3.132.0.34';

export type KeyKind = 'rsa' | 'ec';

export interface SubjectKey {
  kind: KeyKind;
  /** Re-encoded by node:crypto: a canonical SPKI whatever the request carried. */
  spki: Buffer;
  /** RFC 7093 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey bits. */
  keyId: Buffer;
  description: string;
}

const MIN_RSA = 2048;
const MAX_RSA = 8192; // bounds the cost of every later verification

/** The key policy: RSA 2048..8192 bits, or EC P-256/P-384 on a named curve. Anything else is refused. */
export function checkSubjectKey(spkiDer: Uint8Array): SubjectKey {
  let alg: string;
  let params: asn1js.AsnType | undefined;
  try {
    const [algNode] = children(parseDer(spkiDer, 'public key'), 'SubjectPublicKeyInfo');
    const parts = children(algNode, 'AlgorithmIdentifier');
    alg = oidOf(parts[0], 'key algorithm');
    params = parts[1];
  } catch (err) {
    throw new CaError(`public key: ${(err as Error).message}`);
  }
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  } catch (err) {
    throw new CaError(`public key: ${(err as Error).message}`);
  }
  let kind: KeyKind;
  let description: string;
  if (alg === OID.rsaEncryption && key.asymmetricKeyType === 'rsa') {
    const n = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (n < MIN_RSA || n > MAX_RSA) throw new CaError(`RSA key of ${n} bits refused (${MIN_RSA} to ${MAX_RSA})`);
    // CA/Browser Forum baseline: an odd public exponent from 2^16+1 to 2^256-1 (e = 1 or 3 invite forgery tricks).
    const e = key.asymmetricKeyDetails?.publicExponent ?? 0n;
    if (e % 2n === 0n || e < 65537n || e >= 1n << 256n) throw new CaError(`RSA public exponent ${e} refused (odd, 65537 to 2^256-1)`);
    kind = 'rsa';
    description = `RSA ${n}`;
  } else if (alg === OID.ecPublicKey && key.asymmetricKeyType === 'ec') {
    const named = params instanceof asn1js.ObjectIdentifier ? params.valueBlock.toString() : undefined;
    if (named !== P256 && named !== P384) throw new CaError('EC keys must be on the named curve P-256 or P-384');
    kind = 'ec';
    description = named === P256 ? 'P-256' : 'P-384';
  } else {
    throw new CaError('public key must be RSA or EC P-256/P-384');
  }
  const spki = key.export({ type: 'spki', format: 'der' });
  return { kind, spki, keyId: keyIdOf(spki), description };
}

export function keyIdOf(spki: Uint8Array): Buffer {
  const [, bitString] = children(parseDer(spki, 'public key'), 'SubjectPublicKeyInfo');
  if (!(bitString instanceof asn1js.BitString)) throw new CaError('public key: no key bits');
  return createHash('sha256').update(bytesOf(bitString.valueBlock.valueHexView)).digest().subarray(0, 20);
}
