/**
 * PKCS #10 certificate requests (RFC 2986) from users: untrusted input. The
 * request is parsed with the S/MIME code's bounded DER reader, its own
 * signature is verified (proof that the requester holds the key), and the
 * only things taken from it are the public key (through the key policy in
 * x509.ts) and every e-mail address it names, so the issuer can refuse a
 * request for someone else's address. Nothing else in it reaches a
 * certificate.
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import * as asn1js from 'asn1js';
import { bytesOf, children, isContextTag, oidOf, parseDer, rawOf } from '../smime/asn1.js';
import { OID } from '../smime/oids.js';
import { CaError } from './signer.js';
import { CA_OID, fromPem } from './x509.js';
import { type SubjectKey, checkSubjectKey } from './subjectkey.js';

export const MAX_CSR_BYTES = 64 * 1024;

export interface ParsedCsr {
  key: SubjectKey;
  /** Every address the request names (subject emailAddress, a CN that is an address, SAN rfc822Name/SmtpUTF8Mailbox), lower-cased. */
  emails: string[];
}

const SIG: Record<string, { hash: 'sha256' | 'sha384' | 'sha512'; kind: 'rsa' | 'ec' }> = {
  [OID.sha256WithRsa]: { hash: 'sha256', kind: 'rsa' },
  [OID.sha384WithRsa]: { hash: 'sha384', kind: 'rsa' },
  [OID.sha512WithRsa]: { hash: 'sha512', kind: 'rsa' },
  [OID.ecdsaWithSha256]: { hash: 'sha256', kind: 'ec' },
  [OID.ecdsaWithSha384]: { hash: 'sha384', kind: 'ec' },
  [OID.ecdsaWithSha512]: { hash: 'sha512', kind: 'ec' },
};

const ADDRESS = /^[^\s@<>()]+@[^\s@<>()]+$/;

/** The text of a string-valued node (UTF8String, IA5String, PrintableString…), or of an implicitly tagged primitive. */
function textOf(node: asn1js.AsnType | undefined): string {
  const v = (node as { valueBlock?: { value?: unknown; valueHexView?: Uint8Array } } | undefined)?.valueBlock;
  if (typeof v?.value === 'string') return v.value;
  if (v?.valueHexView) return Buffer.from(v.valueHexView).toString('utf8');
  throw new CaError('request: a name value is not a string');
}

function subjectEmails(name: asn1js.AsnType | undefined, out: string[]): void {
  for (const rdn of children(name, 'subject')) {
    for (const atv of children(rdn, 'RDN')) {
      const [type, value] = children(atv, 'AttributeTypeAndValue');
      const t = oidOf(type, 'attribute type');
      if (t === OID.emailAddress) out.push(textOf(value).toLowerCase());
      else if (t === CA_OID.commonName) {
        const cn = textOf(value).trim();
        if (ADDRESS.test(cn)) out.push(cn.toLowerCase());
      }
    }
  }
}

function sanEmails(value: Uint8Array, out: string[]): void {
  for (const gn of children(parseDer(value, 'subjectAltName'), 'GeneralNames')) {
    if (gn.idBlock.tagClass !== 3) continue;
    if (gn.idBlock.tagNumber === 1) out.push(textOf(gn).toLowerCase()); // rfc822Name
    else if (gn.idBlock.tagNumber === 0) {
      // otherName { type-id, [0] EXPLICIT value }: RFC 8398 SmtpUTF8Mailbox
      const [typeId, wrapped] = children(gn, 'otherName');
      if (oidOf(typeId, 'otherName type') === CA_OID.smtpUtf8Mailbox) out.push(textOf(children(wrapped, 'otherName value')[0]).toLowerCase());
    }
  }
}

function requestedEmails(attributes: asn1js.AsnType | undefined, out: string[]): void {
  if (!attributes) return;
  for (const attr of children(attributes, 'attributes')) {
    const [type, values] = children(attr, 'Attribute');
    if (oidOf(type, 'attribute type') !== CA_OID.extensionRequest) continue;
    for (const exts of children(values, 'extensionRequest')) {
      for (const ext of children(exts, 'Extensions')) {
        const parts = children(ext, 'Extension');
        if (oidOf(parts[0], 'extension') !== CA_OID.subjectAltName) continue;
        const v = parts[parts.length - 1];
        if (!(v instanceof asn1js.OctetString)) throw new CaError('request: subjectAltName is not an OCTET STRING');
        sanEmails(bytesOf(v.valueBlock.valueHexView), out);
      }
    }
  }
}

/** Parses and verifies a CSR (DER or PEM). Throws CaError for anything unreadable, unsigned, or outside the key policy. */
export function parseCsr(input: Uint8Array | string): ParsedCsr {
  const der = fromPem(input, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'], MAX_CSR_BYTES);
  try {
    return readCsr(der);
  } catch (err) {
    if (err instanceof CaError) throw err;
    throw new CaError(`request: ${(err as Error).message}`);
  }
}

function readCsr(der: Uint8Array): ParsedCsr {
  const top = children(parseDer(der, 'request'), 'CertificationRequest');
  if (top.length !== 3) throw new CaError('request: not a CertificationRequest');
  const [info, sigAlgNode, sigBits] = top;
  const fields = children(info, 'CertificationRequestInfo');
  const [version, subject, spkiNode, attributes] = fields;
  if (!(version instanceof asn1js.Integer) || version.valueBlock.valueDec !== 0) throw new CaError('request: version is not 1');
  if (attributes !== undefined && !isContextTag(attributes, 0)) throw new CaError('request: attributes are not [0]');
  if (!(sigBits instanceof asn1js.BitString) || sigBits.valueBlock.unusedBits !== 0) throw new CaError('request: no signature');

  if (!spkiNode) throw new CaError('request: no public key');
  const key = checkSubjectKey(rawOf(spkiNode));
  const sigOid = oidOf(children(sigAlgNode, 'signatureAlgorithm')[0], 'signature algorithm');
  const alg = SIG[sigOid];
  if (!alg) throw new CaError(`request: signature algorithm ${sigOid} is not accepted (RSA PKCS#1 v1.5 or ECDSA with SHA-2)`);
  if (key.kind !== alg.kind) throw new CaError('request: the signature algorithm does not fit the key');
  let ok: boolean;
  try {
    const pub = createPublicKey({ key: key.spki, format: 'der', type: 'spki' });
    ok = nodeVerify(alg.hash, rawOf(info!), { key: pub, dsaEncoding: 'der' }, bytesOf(sigBits.valueBlock.valueHexView));
  } catch {
    ok = false;
  }
  if (!ok) throw new CaError('request: its signature does not verify (the requester must hold the key)');

  const emails: string[] = [];
  subjectEmails(subject, emails);
  requestedEmails(attributes, emails);
  return { key, emails };
}
