/**
 * Verifying CMS SignedData from any sender. The answer is always a verdict,
 * never an exception: 'tampered' when the content does not match the signed
 * digest, 'invalid' when the signature does not verify, 'untrusted' when the
 * signer's certificate does not chain to a given anchor at the given time (or
 * is not fit for e-mail signing), 'malformed' when the CMS cannot be read.
 */
import { createHash, verify as nodeVerify, constants, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { CmsError, children, equalBytes, isContextTag, octetValue, oidOf } from './asn1.js';
import { type CertInput, type Cert, type SignerInfoSummary, certFromDer, matchesKeyId, parseCertificates, rawIssuerAndSerial, summarize } from './certs.js';
import { checkChain } from './chain.js';
import { type Algorithm, type SignerInfo, readAlgorithm, readContentInfo, readSignedData } from './cms.js';
import { HASH_BY_OID, OID, SIG_HASH, type HashName } from './oids.js';

export type SignatureStatus = 'valid' | 'invalid' | 'untrusted' | 'tampered' | 'malformed';

export interface SignatureVerdict {
  status: SignatureStatus;
  reason: string;
  signer?: SignerInfoSummary;
  /** The signingTime attribute, as the signer claims it. */
  signingTime?: Date;
  /** The encapsulated content (opaque signatures). */
  content?: Uint8Array;
  /** DER of every certificate the message carried (e.g. to learn a correspondent's encryption certificate). */
  certificates?: Uint8Array[];
}

export interface VerifyOptions {
  /** The signed content, for detached signatures (multipart/signed). */
  content?: Uint8Array;
  /** Trust anchors (PEM bundles or DER). An empty list makes every signature at best 'untrusted'. */
  anchors: readonly CertInput[];
  /** Extra intermediates, beside those in the message. */
  intermediates?: readonly CertInput[];
  /** Validity is checked at this time; default now. Callers pass the time the message arrived. */
  at?: Date;
}

const malformed = (reason: string): SignatureVerdict => ({ status: 'malformed', reason });

function hashOf(alg: Algorithm): HashName {
  const h = HASH_BY_OID[alg.oid];
  if (!h) throw new CmsError(`unsupported digest algorithm ${alg.oid}`);
  return h;
}

interface PssParams {
  hash: HashName;
  saltLength: number;
}

function readPss(params: asn1js.AsnType | undefined): PssParams {
  let hash: HashName = 'sha1';
  let mgfHash: HashName = 'sha1';
  let saltLength = 20;
  for (const field of params ? children(params, 'RSASSA-PSS-params') : []) {
    const inner = children(field, 'RSASSA-PSS-params field')[0];
    if (isContextTag(field, 0)) hash = hashOf(readAlgorithm(inner, 'PSS hash'));
    else if (isContextTag(field, 1)) {
      const mgf = readAlgorithm(inner, 'PSS mgf');
      if (mgf.oid !== OID.mgf1) throw new CmsError('PSS: mask generation other than MGF1');
      mgfHash = hashOf(readAlgorithm(mgf.params, 'MGF1 hash'));
    } else if (isContextTag(field, 2)) {
      if (!(inner instanceof asn1js.Integer)) throw new CmsError('PSS saltLength: not an INTEGER');
      saltLength = inner.valueBlock.valueDec;
    }
  }
  if (mgfHash !== hash) throw new CmsError('PSS: MGF1 hash differs from the message hash (not supported)');
  if (!(saltLength >= 0 && saltLength <= 512)) throw new CmsError('PSS: bad salt length');
  return { hash, saltLength };
}

/** Checks the signature value over `data` with the certificate's key. */
function signatureOk(si: SignerInfo, data: Uint8Array, key: KeyObject): boolean {
  const alg = si.signatureAlgorithm;
  const digest = hashOf(si.digestAlgorithm);
  if (alg.oid === OID.rsassaPss) {
    const pss = readPss(alg.params);
    return nodeVerify(pss.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss.saltLength }, si.signature);
  }
  const hash = SIG_HASH[alg.oid] ?? digest;
  const keyType = key.asymmetricKeyType;
  if (alg.oid === OID.rsaEncryption || (SIG_HASH[alg.oid] && alg.oid.startsWith('1.2.840.113549.1.1.'))) {
    if (keyType !== 'rsa') throw new CmsError('RSA signature with a non-RSA key');
    return nodeVerify(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, si.signature);
  }
  if (alg.oid === OID.ecPublicKey || alg.oid.startsWith('1.2.840.10045.4.')) {
    if (keyType !== 'ec') throw new CmsError('ECDSA signature with a non-EC key');
    return nodeVerify(hash, data, { key, dsaEncoding: 'der' }, si.signature);
  }
  if (alg.oid === OID.dsa || alg.oid === OID.dsaWithSha1 || alg.oid === OID.dsaWithSha256) {
    if (keyType !== 'dsa') throw new CmsError('DSA signature with a non-DSA key');
    return nodeVerify(hash, data, key, si.signature);
  }
  throw new CmsError(`unsupported signature algorithm ${alg.oid}`);
}

function findSigner(si: SignerInfo, certs: readonly Cert[]): Cert | undefined {
  const sid = si.sid;
  if (sid.kind === 'keyId') return certs.find((c) => matchesKeyId(c, sid.keyId));
  return certs.find((c) => {
    const raw = rawIssuerAndSerial(c);
    return equalBytes(raw.issuer, sid.issuer) && equalBytes(raw.serial, sid.serial);
  });
}

function attrValue(si: SignerInfo, type: string): asn1js.AsnType | undefined {
  const found = si.signedAttrs?.filter((a) => a.type === type) ?? [];
  if (found.length > 1 || (found[0] && found[0].values.length !== 1)) throw new CmsError(`signed attribute ${type} must occur once with one value`);
  return found[0]?.values[0];
}

function signingTimeOf(si: SignerInfo): Date | undefined {
  const v = attrValue(si, OID.signingTime);
  return v instanceof asn1js.UTCTime || v instanceof asn1js.GeneralizedTime ? v.toDate() : undefined;
}

function verifySigner(si: SignerInfo, eContentType: string, content: Uint8Array, certs: readonly Cert[], anchors: readonly Cert[], at: Date): SignatureVerdict {
  const digest = createHash(hashOf(si.digestAlgorithm)).update(content).digest();
  let signed: Uint8Array = content;
  const signingTime = signingTimeOf(si);
  const extra = signingTime ? { signingTime } : {};
  if (si.signedAttrsDer) {
    const ct = attrValue(si, OID.contentType);
    const md = attrValue(si, OID.messageDigest);
    if (!ct || !md) return malformed('signed attributes lack contentType or messageDigest');
    if (oidOf(ct, 'contentType attribute') !== eContentType) return { status: 'invalid', reason: 'contentType attribute differs from the content type', ...extra };
    if (!(md instanceof asn1js.OctetString)) return malformed('messageDigest attribute is not an OCTET STRING');
    if (!equalBytes(octetValue(md), digest)) {
      // Who claims to have signed is worth showing on a tampered message; it vouches for nothing.
      const claimed = findSigner(si, certs);
      return { status: 'tampered', reason: 'content does not match the signed message digest', ...(claimed ? { signer: summarize(claimed) } : {}), ...extra };
    }
    signed = si.signedAttrsDer;
  }
  const cert = findSigner(si, certs);
  if (!cert) return { status: 'untrusted', reason: 'signer certificate not found in the message or the given certificates', ...extra };
  const signer = summarize(cert);
  if (!signatureOk(si, signed, cert.x509.publicKey)) {
    return si.signedAttrsDer
      ? { status: 'invalid', reason: 'signature does not verify with the signer certificate', signer, ...extra }
      : { status: 'tampered', reason: 'signature (without signed attributes) does not match the content', signer, ...extra };
  }
  const chain = checkChain(cert, certs, anchors, at);
  if (!chain.ok) return { status: 'untrusted', reason: chain.reason, signer, ...extra };
  return { status: 'valid', reason: `signed by ${signer.subject}, chain to ${chain.path[chain.path.length - 1]!.x509.subject.replace(/\n/g, ', ')}`, signer, ...extra };
}

/** Verifies a DER ContentInfo holding SignedData; never throws. */
export function verifySignedData(der: Uint8Array, opts: VerifyOptions): SignatureVerdict {
  try {
    const ci = readContentInfo(der);
    if (ci.contentType !== OID.signedData) return malformed(`not SignedData (content type ${ci.contentType})`);
    const sd = readSignedData(ci.content);
    const content = sd.eContent ?? opts.content;
    if (!content) return malformed('no content: detached signature given without the signed content');
    if (sd.signerInfos.length === 0) return malformed('no signers');
    const carried = sd.certificates.flatMap((d) => {
      try {
        return [certFromDer(d)];
      } catch {
        return []; // an unreadable extra certificate does not spoil the rest
      }
    });
    const anchors = opts.anchors.flatMap((a) => parseCertificates(a));
    const certs = [...carried, ...(opts.intermediates ?? []).flatMap((c) => parseCertificates(c))];
    const at = opts.at ?? new Date();
    let first: SignatureVerdict | undefined;
    for (const si of sd.signerInfos) {
      let v: SignatureVerdict;
      try {
        if (!sd.digestAlgorithms.some((a) => a.oid === si.digestAlgorithm.oid)) throw new CmsError('signer digest algorithm not listed in digestAlgorithms');
        v = verifySigner(si, sd.eContentType, content, certs, anchors, at);
      } catch (err) {
        v = malformed((err as Error).message);
      }
      if (v.status === 'valid') {
        first = v;
        break;
      }
      first ??= v;
    }
    const out = { ...first!, certificates: sd.certificates };
    return sd.eContent ? { ...out, content: sd.eContent } : out;
  } catch (err) {
    return malformed(err instanceof CmsError ? err.message : `unreadable: ${(err as Error).message}`);
  }
}
