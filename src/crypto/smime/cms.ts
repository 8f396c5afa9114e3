/**
 * Reading the outer layers of CMS (RFC 5652): ContentInfo and the SignedData
 * fields the verifier needs, kept as exact encodings where signatures cover
 * them. A hand walk over asn1js nodes, so what is read is exactly what was
 * sent; anything out of shape is a CmsError.
 */
import * as asn1js from 'asn1js';
import { CmsError, bytesOf, children, isContextTag, octetValue, oidOf, parseDer, rawOf } from './asn1.js';

export interface ContentInfo {
  contentType: string;
  /** The [0] EXPLICIT content. */
  content: asn1js.AsnType;
}

export function readContentInfo(der: Uint8Array): ContentInfo {
  const root = parseDer(der, 'ContentInfo');
  if (!(root instanceof asn1js.Sequence)) throw new CmsError('ContentInfo: not a SEQUENCE');
  const [type, wrapped] = children(root, 'ContentInfo');
  const contentType = oidOf(type, 'ContentInfo contentType');
  if (!isContextTag(wrapped, 0)) throw new CmsError('ContentInfo: no [0] content');
  const inner = children(wrapped, 'ContentInfo content');
  if (inner.length !== 1) throw new CmsError('ContentInfo: content must hold one value');
  return { contentType, content: inner[0]! };
}

export interface Algorithm {
  oid: string;
  params?: asn1js.AsnType;
}

export function readAlgorithm(node: asn1js.AsnType | undefined, what: string): Algorithm {
  if (!(node instanceof asn1js.Sequence)) throw new CmsError(`${what}: not an AlgorithmIdentifier`);
  const [id, params] = children(node, what);
  const oid = oidOf(id, what);
  return params && !(params instanceof asn1js.Null) ? { oid, params } : { oid };
}

export interface Attribute {
  type: string;
  values: asn1js.AsnType[];
}

function readAttributes(node: asn1js.AsnType): Attribute[] {
  return children(node, 'attributes').map((a) => {
    const [type, values] = children(a, 'Attribute');
    if (!(values instanceof asn1js.Set)) throw new CmsError('Attribute values: not a SET');
    return { type: oidOf(type, 'Attribute type'), values: children(values, 'Attribute values') };
  });
}

export type SignerId = { kind: 'issuerAndSerial'; issuer: Uint8Array; serial: Uint8Array } | { kind: 'keyId'; keyId: Uint8Array };

export interface SignerInfo {
  sid: SignerId;
  digestAlgorithm: Algorithm;
  /** DER of the signed attributes with the SET tag, as the signature covers them. */
  signedAttrsDer?: Uint8Array;
  signedAttrs?: Attribute[];
  signatureAlgorithm: Algorithm;
  signature: Uint8Array;
}

export interface SignedData {
  digestAlgorithms: Algorithm[];
  eContentType: string;
  /** Absent for detached signatures. */
  eContent?: Uint8Array;
  /** Exact DER of each certificate carried (other certificate formats skipped). */
  certificates: Uint8Array[];
  signerInfos: SignerInfo[];
}

const MAX_SIGNERS = 8;
const MAX_CERTS = 64;

function readSid(node: asn1js.AsnType | undefined): SignerId {
  if (node instanceof asn1js.Sequence) {
    const [issuer, serial] = children(node, 'IssuerAndSerialNumber');
    if (!(issuer instanceof asn1js.Sequence) || !(serial instanceof asn1js.Integer)) throw new CmsError('IssuerAndSerialNumber: bad shape');
    return { kind: 'issuerAndSerial', issuer: rawOf(issuer), serial: rawOf(serial) };
  }
  if (isContextTag(node, 0) && node && !node.idBlock.isConstructed) {
    return { kind: 'keyId', keyId: bytesOf((node as asn1js.Primitive).valueBlock.valueHexView) };
  }
  throw new CmsError('SignerIdentifier: neither issuerAndSerialNumber nor subjectKeyIdentifier');
}

function readSignerInfo(node: asn1js.AsnType): SignerInfo {
  const items = children(node, 'SignerInfo');
  let i = 1; // skip version
  const sid = readSid(items[i++]);
  const digestAlgorithm = readAlgorithm(items[i++], 'digestAlgorithm');
  let signedAttrsDer: Uint8Array | undefined;
  let signedAttrs: Attribute[] | undefined;
  if (isContextTag(items[i], 0)) {
    const node0 = items[i++]!;
    signedAttrsDer = rawOf(node0).slice();
    signedAttrsDer[0] = 0x31;
    signedAttrs = readAttributes(node0);
  }
  const signatureAlgorithm = readAlgorithm(items[i++], 'signatureAlgorithm');
  const sig = items[i++];
  if (!(sig instanceof asn1js.OctetString)) throw new CmsError('SignerInfo signature: not an OCTET STRING');
  const base = { sid, digestAlgorithm, signatureAlgorithm, signature: octetValue(sig) };
  return signedAttrsDer && signedAttrs ? { ...base, signedAttrsDer, signedAttrs } : base;
}

export function readSignedData(node: asn1js.AsnType): SignedData {
  const items = children(node, 'SignedData');
  const [, digestSet, encap] = items;
  if (!(digestSet instanceof asn1js.Set)) throw new CmsError('SignedData digestAlgorithms: not a SET');
  const digestAlgorithms = children(digestSet, 'digestAlgorithms').map((a) => readAlgorithm(a, 'digestAlgorithm'));
  const [eType, eWrapped] = children(encap, 'EncapsulatedContentInfo');
  const eContentType = oidOf(eType, 'eContentType');
  let eContent: Uint8Array | undefined;
  if (eWrapped !== undefined) {
    if (!isContextTag(eWrapped, 0)) throw new CmsError('EncapsulatedContentInfo: bad eContent tag');
    eContent = octetValue(children(eWrapped, 'eContent')[0]);
  }
  const certificates: Uint8Array[] = [];
  let signerSet: asn1js.AsnType | undefined;
  for (const item of items.slice(3)) {
    if (isContextTag(item, 0)) {
      for (const c of children(item, 'certificates')) {
        if (c instanceof asn1js.Sequence && certificates.length < MAX_CERTS) certificates.push(rawOf(c));
      }
    } else if (isContextTag(item, 1)) {
      continue; // CRLs: not used (no revocation checking here)
    } else if (item instanceof asn1js.Set) {
      signerSet = item;
    } else {
      throw new CmsError('SignedData: unexpected field');
    }
  }
  if (!signerSet) throw new CmsError('SignedData: no signerInfos');
  const signers = children(signerSet, 'signerInfos');
  if (signers.length > MAX_SIGNERS) throw new CmsError(`SignedData: more than ${MAX_SIGNERS} signers`);
  const base = { digestAlgorithms, eContentType, certificates, signerInfos: signers.map(readSignerInfo) };
  return eContent ? { ...base, eContent } : base;
}
