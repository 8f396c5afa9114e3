/**
 * CMS SignedData (RFC 5652) for S/MIME: one signer, signed attributes
 * (contentType, signingTime, messageDigest, smimeCapabilities), the signer's
 * certificate and any chain included, detached (multipart/signed) or
 * encapsulated (smime-type=signed-data). RSA PKCS#1 v1.5 or RSA-PSS, ECDSA
 * P-256/P-384; signed with node:crypto. The signed attributes are sorted as
 * DER requires, because some verifiers re-encode them before checking.
 */
import { createHash, sign as nodeSign, constants } from 'node:crypto';
import { explicit, implicit, octets, oid, seq, set, smallUint, time, tlv } from '../der.js';
import { CmsError, algId } from './asn1.js';
import { type CertInput, type Cert, keyIdFor, parseCertificate, parseCertificates, rawIssuerAndSerial } from './certs.js';
import { type KeyInput, keyKind, privateKey } from './keys.js';
import { HASH_OID, OID, type HashName } from './oids.js';

export interface SignOptions {
  /** The signer's certificate (PEM or DER). */
  certificate: CertInput;
  /** The signer's private key (PEM or KeyObject); used, never kept. */
  key: KeyInput;
  /** Intermediate certificates to include, so receivers can build the path. */
  chain?: readonly CertInput[];
  /** true (default): no content inside (multipart/signed); false: content encapsulated. */
  detached?: boolean;
  /** Default sha384 for P-384 keys, sha512 for P-521, else sha256. */
  hash?: 'sha256' | 'sha384' | 'sha512';
  /** RSA keys: sign with RSASSA-PSS (salt = hash length) instead of PKCS#1 v1.5. */
  pss?: boolean;
  /** Identify the signer by subjectKeyIdentifier rather than issuer and serial. */
  signerId?: 'issuerAndSerial' | 'subjectKeyIdentifier';
  /** The signingTime attribute; default now. */
  signingTime?: Date;
}

const HASH_LEN: Record<HashName, number> = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 };
const ECDSA_OID: Record<string, string> = { sha256: OID.ecdsaWithSha256, sha384: OID.ecdsaWithSha384, sha512: OID.ecdsaWithSha512 };
const RSA_OID: Record<string, string> = { sha256: OID.sha256WithRsa, sha384: OID.sha384WithRsa, sha512: OID.sha512WithRsa };
const NULL = Buffer.from([0x05, 0x00]);

/** SMIMECapabilities we can decrypt, strongest first (RFC 8551 §2.5.2). */
const capabilities = (): Buffer => seq(...[OID.aes256Gcm, OID.aes128Gcm, OID.aes256Cbc, OID.aes192Cbc, OID.aes128Cbc].map((o) => algId(o)));

const attribute = (type: string, value: Uint8Array): Buffer => seq(oid(type), set(value));

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The content of a DER SET OF: elements sorted by their encodings. */
const setOfContent = (encoded: readonly Uint8Array[]): Buffer => Buffer.concat([...encoded].sort(compareBytes));

const pssParams = (hash: HashName): Buffer =>
  seq(explicit(0, algId(HASH_OID[hash])), explicit(1, algId(OID.mgf1, algId(HASH_OID[hash]))), explicit(2, smallUint(HASH_LEN[hash])));

/** The signer identifier: IssuerAndSerialNumber, or [0] SubjectKeyIdentifier. */
function signerId(cert: Cert, kind: 'issuerAndSerial' | 'subjectKeyIdentifier'): Buffer {
  if (kind === 'subjectKeyIdentifier') return implicit(0, keyIdFor(cert));
  const { issuer, serial } = rawIssuerAndSerial(cert);
  return seq(issuer, serial);
}

/** The digest a signature will use: the one asked for, else by key (P-384 → sha384, P-521 → sha512, others sha256). */
export function signingHash(opts: Pick<SignOptions, 'hash' | 'key'>): 'sha256' | 'sha384' | 'sha512' {
  if (opts.hash) return opts.hash;
  const kind = keyKind(privateKey(opts.key));
  return kind === 'ec-p384' ? 'sha384' : kind === 'ec-p521' ? 'sha512' : 'sha256';
}

/** Signs `content` and returns a DER ContentInfo holding the SignedData. */
export function signData(content: Uint8Array, opts: SignOptions): Uint8Array {
  const cert = parseCertificate(opts.certificate);
  const key = privateKey(opts.key);
  const kind = keyKind(key);
  const hash = signingHash(opts);
  if (!cert.x509.checkPrivateKey(key)) throw new CmsError('the key does not belong to the certificate');
  const detached = opts.detached ?? true;
  const sidKind = opts.signerId ?? 'issuerAndSerial';

  const digest = createHash(hash).update(content).digest();
  const attrs = setOfContent([
    attribute(OID.contentType, oid(OID.data)),
    attribute(OID.signingTime, time(opts.signingTime ?? new Date())),
    attribute(OID.messageDigest, octets(digest)),
    attribute(OID.smimeCapabilities, capabilities()),
  ]);
  const toSign = tlv(0x31, attrs);

  let sigAlg: Buffer;
  let signature: Buffer;
  if (kind === 'rsa' || kind === 'rsa-pss') {
    if (opts.pss || kind === 'rsa-pss') {
      sigAlg = algId(OID.rsassaPss, pssParams(hash));
      signature = nodeSign(hash, toSign, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LEN[hash] });
    } else {
      sigAlg = algId(RSA_OID[hash]!, NULL);
      signature = nodeSign(hash, toSign, key);
    }
  } else if (kind === 'ec-p256' || kind === 'ec-p384' || kind === 'ec-p521') {
    sigAlg = algId(ECDSA_OID[hash]!);
    signature = nodeSign(hash, toSign, { key, dsaEncoding: 'der' });
  } else {
    throw new CmsError(`unsupported signing key type: ${key.asymmetricKeyType ?? 'unknown'}`);
  }

  const version = smallUint(sidKind === 'subjectKeyIdentifier' ? 3 : 1);
  const signerInfo = seq(version, signerId(cert, sidKind), algId(HASH_OID[hash]), tlv(0xa0, attrs), sigAlg, octets(signature));
  const certs = [cert, ...(opts.chain ?? []).flatMap((c) => parseCertificates(c))];
  const encap = detached ? seq(oid(OID.data)) : seq(oid(OID.data), explicit(0, octets(content)));
  const signedData = seq(version, set(algId(HASH_OID[hash])), encap, tlv(0xa0, Buffer.concat(certs.map((c) => c.der))), set(signerInfo));
  return new Uint8Array(seq(oid(OID.signedData), explicit(0, signedData)));
}
