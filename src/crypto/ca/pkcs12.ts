/**
 * PKCS #12 (RFC 7292) for handing a user their key and certificate: the
 * private key in a pkcs8ShroudedKeyBag and the certificates in an
 * EncryptedData, both PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC, RFC 8018), and
 * an HMAC-SHA256 integrity MAC keyed by the PKCS #12 KDF (RFC 7292 B.2).
 * That is OpenSSL 3's default profile, so `openssl pkcs12` reads it without
 * -legacy, as do current Windows, macOS and Thunderbird. The MAC and both
 * encryptions use the same iteration count: a cheaper MAC would be a faster
 * oracle for guessing the password.
 */
import { X509Certificate, createCipheriv, createHash, createHmac, createPrivateKey, pbkdf2Sync, randomBytes, type KeyObject } from 'node:crypto';
import { explicit, implicit, octets, oid, seq, set, smallUint, tlv, uint } from '../der.js';
import { algId } from '../smime/asn1.js';
import { OID } from '../smime/oids.js';
import { CaError } from './signer.js';
import { fromPem } from './x509.js';

export interface Pkcs12Options {
  certificate: Uint8Array | string;
  privateKey: KeyObject | string;
  /** Issuer certificates to include (the CA), so the user's client can build the path. */
  chain?: readonly (Uint8Array | string)[];
  password: string;
  /** Shown by key stores; default none. */
  friendlyName?: string;
  /** PBKDF2 and MAC iterations; default 100 000 (2 048 to 10 000 000). */
  iterations?: number;
}

const P12 = {
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  encryptedData: '1.2.840.113549.1.7.6',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
};
const NULL = Buffer.from([0x05, 0x00]);
const DEFAULT_ITERATIONS = 100_000;

/** BMPString bytes with the two-zero terminator, as the PKCS #12 KDF wants the password (RFC 7292 B.1). */
function bmpPassword(password: string): Buffer {
  const b = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) b.writeUInt16BE(password.charCodeAt(i), i * 2);
  return b;
}

/** RFC 7292 B.2 with SHA-256 (u = 32, v = 64). id 3 = MAC key. */
export function pkcs12Kdf(password: string, salt: Uint8Array, id: number, iterations: number, n: number): Buffer {
  const u = 32;
  const v = 64;
  const fill = (src: Uint8Array): Buffer => {
    const len = v * Math.ceil(src.length / v);
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const p = bmpPassword(password);
  const I = Buffer.concat([salt.length ? fill(salt) : Buffer.alloc(0), fill(p)]);
  const D = Buffer.alloc(v, id);
  const out: Buffer[] = [];
  for (let done = 0; done < n; done += u) {
    let a = createHash('sha256').update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) a = createHash('sha256').update(a).digest();
    out.push(a);
    const b = fill(a);
    // I_j = (I_j + B + 1) mod 2^(8v), for each v-byte block.
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + b[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, n);
}

/** Encrypts with PBES2 and returns [AlgorithmIdentifier, ciphertext]. */
function pbes2(plain: Uint8Array, password: string, iterations: number): [Buffer, Buffer] {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  const params = seq(
    seq(oid(P12.pbkdf2), seq(octets(salt), uint(intBytes(iterations)), algId(P12.hmacWithSha256, NULL))),
    seq(oid(OID.aes256Cbc), octets(iv)),
  );
  return [seq(oid(P12.pbes2), params), ct];
}

function intBytes(n: number): Buffer {
  const b: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) b.unshift(v & 0xff);
  return Buffer.from(b.length ? b : [0]);
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function bagAttributes(localKeyId: Uint8Array, friendlyName?: string): Buffer {
  const attrs = [seq(oid(P12.localKeyId), set(octets(localKeyId)))];
  if (friendlyName !== undefined) attrs.push(seq(oid(P12.friendlyName), set(tlv(0x1e, bmpPassword(friendlyName).subarray(0, -2)))));
  return tlv(0x31, Buffer.concat(attrs.sort(compare)));
}

const dataContentInfo = (content: Uint8Array): Buffer => seq(oid(OID.data), explicit(0, octets(content)));

/** The PFX, DER. Checks that the key belongs to the certificate first. */
export function toPkcs12(opts: Pkcs12Options): Uint8Array {
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 2048 || iterations > 10_000_000) throw new CaError('iterations must be a whole number from 2048 to 10 000 000');
  if (typeof opts.password !== 'string' || opts.password.length === 0) throw new CaError('a PKCS#12 needs a password');
  if (opts.friendlyName !== undefined && (opts.friendlyName.length > 64 || /[\p{Cc}]/u.test(opts.friendlyName))) throw new CaError('friendlyName: at most 64 characters, no control characters');
  let leaf: Uint8Array;
  let chain: Uint8Array[];
  let key: KeyObject;
  try {
    leaf = fromPem(opts.certificate, ['CERTIFICATE'], 64 * 1024);
    chain = (opts.chain ?? []).map((c) => fromPem(c, ['CERTIFICATE'], 64 * 1024));
    key = typeof opts.privateKey === 'string' ? createPrivateKey(opts.privateKey) : opts.privateKey;
    if (key.type !== 'private') throw new CaError('privateKey is not a private key');
    if (!new X509Certificate(leaf).checkPrivateKey(key)) throw new CaError('the private key does not belong to the certificate');
    for (const c of chain) new X509Certificate(c);
  } catch (err) {
    throw err instanceof CaError ? err : new CaError(`PKCS#12 input: ${(err as Error).message}`);
  }
  const localKeyId = createHash('sha1').update(leaf).digest();

  const [keyAlg, keyCt] = pbes2(key.export({ type: 'pkcs8', format: 'der' }), opts.password, iterations);
  const keyBag = seq(oid(P12.pkcs8ShroudedKeyBag), explicit(0, seq(keyAlg, octets(keyCt))), bagAttributes(localKeyId, opts.friendlyName));
  const certBag = (der: Uint8Array, attrs?: Buffer): Buffer =>
    seq(oid(P12.certBag), explicit(0, seq(oid(P12.x509Certificate), explicit(0, octets(der)))), ...(attrs ? [attrs] : []));
  const certs = seq(certBag(leaf, bagAttributes(localKeyId, opts.friendlyName)), ...chain.map((c) => certBag(c)));
  const [certAlg, certCt] = pbes2(certs, opts.password, iterations);
  const encryptedCerts = seq(oid(P12.encryptedData), explicit(0, seq(smallUint(0), seq(oid(OID.data), certAlg, implicit(0, certCt)))));

  const authSafe = seq(encryptedCerts, dataContentInfo(seq(keyBag)));
  const macSalt = randomBytes(16);
  const macKey = pkcs12Kdf(opts.password, macSalt, 3, iterations, 32);
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  const macData = seq(seq(algId(OID.sha256, NULL), octets(mac)), octets(macSalt), uint(intBytes(iterations)));
  return new Uint8Array(seq(smallUint(3), dataContentInfo(authSafe), macData));
}
