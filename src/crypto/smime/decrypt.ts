/**
 * Decrypting EnvelopedData and AuthEnvelopedData with a recipient's key, for
 * tests and the owner's tools (the server never holds these keys). RSA-OAEP
 * key transport and ECDH key agreement; RSA PKCS#1 v1.5 key transport is
 * refused (Node 20 forbids that private decryption, CVE-2023-46809). The
 * answer is data, never an exception.
 */
import { constants, createDecipheriv, createPublicKey, diffieHellman, privateDecrypt, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { CmsError, bytesOf, children, equalBytes, isContextTag, octetValue, rawOf } from './asn1.js';
import { type Cert, type CertInput, matchesKeyId, parseCertificate, rawIssuerAndSerial } from './certs.js';
import { readAlgorithm, readContentInfo } from './cms.js';
import { KDF_HASH, WRAP_BITS, deriveKek, unwrapKey } from './ecdh.js';
import { type KeyInput, privateKey } from './keys.js';
import { HASH_BY_OID, OID, type HashName } from './oids.js';

export interface DecryptOptions {
  certificate: CertInput;
  key: KeyInput;
}

export type DecryptResult =
  | { ok: true; content: Uint8Array; cipher: string; authenticated: boolean }
  | { ok: false; reason: string };

const CBC: Record<string, string> = { [OID.aes128Cbc]: 'aes-128-cbc', [OID.aes192Cbc]: 'aes-192-cbc', [OID.aes256Cbc]: 'aes-256-cbc' };
const GCM: Record<string, string> = { [OID.aes128Gcm]: 'aes-128-gcm', [OID.aes192Gcm]: 'aes-192-gcm', [OID.aes256Gcm]: 'aes-256-gcm' };
const CURVE_JWK: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** Does a recipient identifier (IssuerAndSerialNumber or [0] key id) name this certificate? */
function ridMatches(node: asn1js.AsnType | undefined, cert: Cert, keyIdIsSequence: boolean): boolean {
  if (node instanceof asn1js.Sequence) {
    const [issuer, serial] = children(node, 'IssuerAndSerialNumber');
    const own = rawIssuerAndSerial(cert);
    return !!issuer && !!serial && equalBytes(rawOf(issuer), own.issuer) && equalBytes(rawOf(serial), own.serial);
  }
  if (isContextTag(node, 0)) {
    const keyId = keyIdIsSequence ? octetValue(children(node, 'RecipientKeyIdentifier')[0]) : bytesOf((node as asn1js.Primitive).valueBlock.valueHexView);
    return matchesKeyId(cert, keyId);
  }
  return false;
}

function oaepHash(params: asn1js.AsnType | undefined): HashName {
  let hash: HashName = 'sha1';
  let mgf: HashName = 'sha1';
  for (const field of params ? children(params, 'RSAES-OAEP-params') : []) {
    const inner = children(field, 'OAEP field')[0];
    if (isContextTag(field, 0)) hash = HASH_BY_OID[readAlgorithm(inner, 'OAEP hash').oid] ?? fail('unsupported OAEP hash');
    else if (isContextTag(field, 1)) mgf = HASH_BY_OID[readAlgorithm(readAlgorithm(inner, 'OAEP mgf').params, 'MGF1 hash').oid] ?? fail('unsupported MGF1 hash');
    else if (isContextTag(field, 2)) fail('OAEP label (pSourceFunc) not supported');
  }
  if (hash !== mgf) fail('OAEP with an MGF1 hash different from the hash is not supported');
  return hash;
}

function fail(reason: string): never {
  throw new CmsError(reason);
}

function ktriKey(items: asn1js.AsnType[], cert: Cert, key: KeyObject): Uint8Array | undefined {
  if (!ridMatches(items[1], cert, false)) return undefined;
  const alg = readAlgorithm(items[2], 'keyEncryptionAlgorithm');
  const encryptedKey = octetValue(items[3]);
  if (alg.oid === OID.rsaEncryption) fail('RSA PKCS#1 v1.5 key transport: not decrypted here (Node 20 forbids it); use openssl cms -decrypt');
  if (alg.oid !== OID.rsaesOaep) fail(`unsupported key transport ${alg.oid}`);
  try {
    return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(alg.params) }, encryptedKey);
  } catch (err) {
    if (err instanceof CmsError) throw err;
    fail('RSA-OAEP decryption failed (wrong key?)');
  }
}

function kariKey(items: asn1js.AsnType[], cert: Cert, key: KeyObject): Uint8Array | undefined {
  let i = 1;
  const originator = items[i++];
  let ukm: Uint8Array | undefined;
  if (isContextTag(items[i], 1)) ukm = octetValue(children(items[i++], 'ukm')[0]);
  const alg = readAlgorithm(items[i++], 'keyEncryptionAlgorithm');
  const reks = children(items[i], 'recipientEncryptedKeys');
  const mine = reks.map((r) => children(r, 'RecipientEncryptedKey')).find((r) => ridMatches(r[0], cert, true));
  if (!mine) return undefined;
  const hash = KDF_HASH[alg.oid] ?? fail(`unsupported key agreement ${alg.oid}`);
  const wrap = readAlgorithm(alg.params, 'key wrap algorithm').oid;
  if (!WRAP_BITS[wrap]) fail(`unsupported key wrap ${wrap}`);
  // originator [0] EXPLICIT { [1] IMPLICIT OriginatorPublicKey { algorithm, publicKey BIT STRING } }
  const orig = children(originator, 'originator')[0];
  if (!isContextTag(orig, 1)) fail('key agreement originator is not an ephemeral public key');
  const point = children(orig, 'OriginatorPublicKey')[1];
  if (!(point instanceof asn1js.BitString)) fail('originator public key: not a BIT STRING');
  const p = bytesOf(point.valueBlock.valueHexView);
  const crv = CURVE_JWK[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? fail('unsupported curve');
  const half = (p.length - 1) / 2;
  if (p[0] !== 4 || !Number.isInteger(half)) fail('originator public key: not an uncompressed point');
  let pub: KeyObject;
  try {
    pub = createPublicKey({ key: { kty: 'EC', crv, x: Buffer.from(p.subarray(1, 1 + half)).toString('base64url'), y: Buffer.from(p.subarray(1 + half)).toString('base64url') }, format: 'jwk' });
  } catch {
    fail('originator public key: not a point on the curve');
  }
  const z = diffieHellman({ privateKey: key, publicKey: pub });
  const kek = deriveKek(hash, z, wrap, ukm);
  try {
    return unwrapKey(kek, octetValue(mine[1]));
  } catch {
    fail('key unwrap failed (wrong key?)');
  }
}

function contentKey(recipientInfos: asn1js.AsnType, cert: Cert, key: KeyObject): Uint8Array {
  const type = key.asymmetricKeyType;
  for (const ri of children(recipientInfos, 'recipientInfos')) {
    if (ri instanceof asn1js.Sequence && type === 'rsa') {
      const k = ktriKey(children(ri, 'KeyTransRecipientInfo'), cert, key);
      if (k) return k;
    } else if (isContextTag(ri, 1) && type === 'ec') {
      const k = kariKey(children(ri, 'KeyAgreeRecipientInfo'), cert, key);
      if (k) return k;
    }
  }
  fail('the message is not encrypted to this certificate');
}

function decryptContent(eci: asn1js.AsnType | undefined, cek: Uint8Array, mac?: Uint8Array, aad?: Uint8Array): { content: Uint8Array; cipher: string } {
  const [, algNode, enc] = children(eci, 'EncryptedContentInfo');
  const alg = readAlgorithm(algNode, 'contentEncryptionAlgorithm');
  if (!isContextTag(enc, 0)) fail('no encrypted content (detached content is not supported)');
  // [0] IMPLICIT OCTET STRING: primitive, or constructed from chunks
  const ct = octetValue(enc); // [0] IMPLICIT OCTET STRING, primitive or in BER chunks
  if (CBC[alg.oid]) {
    if (mac) fail('CBC content in AuthEnvelopedData');
    if (!(alg.params instanceof asn1js.OctetString)) fail('CBC parameters: no IV');
    const iv = octetValue(alg.params);
    try {
      const d = createDecipheriv(CBC[alg.oid]!, cek, iv);
      return { content: Buffer.concat([d.update(ct), d.final()]), cipher: CBC[alg.oid]! };
    } catch {
      fail('content decryption failed (bad padding or key)');
    }
  }
  if (GCM[alg.oid]) {
    if (!mac) fail('GCM content outside AuthEnvelopedData has no tag');
    const [nonceNode, icv] = children(alg.params, 'GCMParameters');
    const nonce = octetValue(nonceNode);
    const tagLen = icv instanceof asn1js.Integer ? icv.valueBlock.valueDec : 12;
    if (mac.length !== tagLen || tagLen < 12 || tagLen > 16) fail('GCM tag length does not match its parameters');
    try {
      const d = createDecipheriv(GCM[alg.oid]! as 'aes-256-gcm', cek, nonce, { authTagLength: tagLen });
      d.setAuthTag(mac);
      if (aad) d.setAAD(aad);
      return { content: Buffer.concat([d.update(ct), d.final()]), cipher: GCM[alg.oid]! };
    } catch {
      fail('authentication failed: the encrypted content or its attributes were changed');
    }
  }
  fail(`unsupported content cipher ${alg.oid}`);
}

/** Decrypts a DER ContentInfo (EnvelopedData or AuthEnvelopedData); never throws. */
export function decryptData(der: Uint8Array, opts: DecryptOptions): DecryptResult {
  try {
    const cert = parseCertificate(opts.certificate);
    const key = privateKey(opts.key);
    const ci = readContentInfo(der);
    const auth = ci.contentType === OID.authEnvelopedData;
    if (!auth && ci.contentType !== OID.envelopedData) fail(`not EnvelopedData or AuthEnvelopedData (content type ${ci.contentType})`);
    const items = children(ci.content, auth ? 'AuthEnvelopedData' : 'EnvelopedData');
    let i = 1;
    if (isContextTag(items[i], 0)) i++; // originatorInfo
    const recipientInfos = items[i++];
    if (!(recipientInfos instanceof asn1js.Set)) fail('recipientInfos: not a SET');
    const eci = items[i++];
    const cek = contentKey(recipientInfos, cert, key);
    if (!auth) return { ok: true, ...decryptContent(eci, cek), authenticated: false };
    let aad: Uint8Array | undefined;
    if (isContextTag(items[i], 1)) {
      aad = rawOf(items[i++]!).slice();
      aad[0] = 0x31; // authAttrs are authenticated as a DER SET OF
    }
    const mac = items[i];
    if (!(mac instanceof asn1js.OctetString)) fail('AuthEnvelopedData: no mac');
    return { ok: true, ...decryptContent(eci, cek, octetValue(mac), aad), authenticated: true };
  } catch (err) {
    return { ok: false, reason: err instanceof CmsError ? err.message : `unreadable: ${(err as Error).message}` };
  }
}
