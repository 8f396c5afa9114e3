/**
 * Certificates as the S/MIME code needs them: node:crypto's X509Certificate
 * for signatures, issuance and names, pkijs for the fields node does not
 * expose (key usage bits, path length, SKI, validity dates, key parameters),
 * and the issuer and serial as encoded, which CMS identifiers must match
 * byte for byte. Certificates come from senders, so parsing is bounded and
 * failures are CmsErrors.
 */
import { X509Certificate, createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CmsError, bytesOf, equalBytes, hex, parseDer } from './asn1.js';
import { OID } from './oids.js';

/** PEM text (one or more certificates), DER bytes, or a certificate parsed before (callers may cache it: parsing costs ~2 ms). */
export type CertInput = string | Uint8Array | Cert;

export interface Cert {
  der: Uint8Array;
  x509: X509Certificate;
  pki: pkijs.Certificate;
}

export interface SignerInfoSummary {
  /** The subject's attributes in certificate order, as OpenSSL prints them ("C=…, O=…, CN=…"). */
  subject: string;
  /** The first rfc822Name in subjectAltName, else the subject's emailAddress; lower-cased. */
  email?: string;
  /** Hex, upper-case, no separators. */
  serial: string;
  /** SHA-256 of the DER, hex, lower-case. */
  fingerprint: string;
}

const MAX_CERT_BYTES = 64 * 1024;
const PEM_RE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

export function certFromDer(der: Uint8Array): Cert {
  if (der.length > MAX_CERT_BYTES) throw new CmsError('certificate larger than 64 KiB');
  const node = parseDer(der, 'certificate');
  let pki: pkijs.Certificate;
  let x509: X509Certificate;
  try {
    pki = new pkijs.Certificate({ schema: node });
    x509 = new X509Certificate(der);
  } catch (err) {
    throw new CmsError(`certificate: ${(err as Error).message}`);
  }
  return { der, x509, pki };
}

/** Every certificate in the input (PEM may hold a bundle). */
export function parseCertificates(input: CertInput): Cert[] {
  if (typeof input === 'object' && 'x509' in input) return [input];
  if (typeof input !== 'string') return [certFromDer(input)];
  const out: Cert[] = [];
  for (const m of input.matchAll(PEM_RE)) out.push(certFromDer(new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'))));
  if (out.length === 0) throw new CmsError('no PEM certificate found');
  return out;
}

export function parseCertificate(input: CertInput): Cert {
  return parseCertificates(input)[0]!;
}

function extension(cert: Cert, oid: string): pkijs.Extension | undefined {
  return cert.pki.extensions?.find((e) => e.extnID === oid);
}

/** The subjectKeyIdentifier extension, if present. */
export function subjectKeyId(cert: Cert): Uint8Array | undefined {
  const ext = extension(cert, OID.subjectKeyIdentifier);
  const v = ext?.parsedValue as asn1js.OctetString | undefined;
  return v instanceof asn1js.OctetString ? bytesOf(v.valueBlock.valueHexView) : undefined;
}

/** The SKI to put in a RecipientKeyIdentifier/SignerIdentifier: the extension, else SHA-1 of the key (RFC 5280 method 1). */
export function keyIdFor(cert: Cert): Uint8Array {
  return subjectKeyId(cert) ?? sha1KeyId(cert);
}

const sha1KeyId = (cert: Cert): Uint8Array =>
  new Uint8Array(createHash('sha1').update(bytesOf(cert.pki.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)).digest());

export const KU = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const;

/** Key usage bits, or undefined when the extension is absent (any use allowed). */
export function keyUsage(cert: Cert): Set<number> | undefined {
  const ext = extension(cert, OID.keyUsage);
  if (!ext) return undefined;
  const bits = ext.parsedValue as asn1js.BitString | undefined;
  const set = new Set<number>();
  if (!(bits instanceof asn1js.BitString)) return set;
  const v = bits.valueBlock.valueHexView;
  for (let i = 0; i < v.length * 8 && i < 16; i++) if (v[i >> 3]! & (0x80 >> (i & 7))) set.add(i);
  return set;
}

/** basicConstraints: cA flag and pathLenConstraint (undefined when absent). */
export function basicConstraints(cert: Cert): { ca: boolean; pathLen?: number } {
  const ext = extension(cert, OID.basicConstraints);
  const bc = ext?.parsedValue as pkijs.BasicConstraints | undefined;
  if (!(bc instanceof pkijs.BasicConstraints)) return { ca: false };
  const pl = bc.pathLenConstraint;
  const pathLen = typeof pl === 'number' ? pl : pl instanceof asn1js.Integer ? pl.valueBlock.valueDec : undefined;
  return pathLen === undefined ? { ca: !!bc.cA } : { ca: !!bc.cA, pathLen };
}

/** Extended key usage OIDs, or undefined when absent. */
export function extKeyUsage(cert: Cert): string[] | undefined {
  const eku = cert.x509.keyUsage as string[] | undefined;
  return eku && eku.length > 0 ? eku : undefined;
}

/** An EC key with explicit curve parameters (RFC 5480 forbids them; "CurveBall" abused them). */
export function explicitEcParams(cert: Cert): boolean {
  const alg = cert.pki.subjectPublicKeyInfo.algorithm;
  return alg.algorithmId === OID.ecPublicKey && alg.algorithmParams instanceof asn1js.Sequence;
}

export function validAt(cert: Cert, at: Date): boolean {
  const t = at.getTime();
  return cert.pki.notBefore.value.getTime() <= t && t <= cert.pki.notAfter.value.getTime();
}

export function certEmail(cert: Cert): string | undefined {
  const san = cert.x509.subjectAltName ?? '';
  const m = /(?:^|, )email:([^,\s]+)/.exec(san);
  if (m) return m[1]!.toLowerCase();
  for (const tv of cert.pki.subject.typesAndValues) {
    if (tv.type === OID.emailAddress) return String(tv.value.valueBlock.value).toLowerCase();
  }
  return undefined;
}

export function summarize(cert: Cert): SignerInfoSummary {
  const email = certEmail(cert);
  const subject = cert.x509.subject.split('\n').filter(Boolean).join(', ');
  const base = {
    subject,
    serial: hex(bytesOf(cert.pki.serialNumber.valueBlock.valueHexView)).toUpperCase(),
    fingerprint: createHash('sha256').update(cert.der).digest('hex'),
  };
  return email ? { ...base, email } : base;
}

export function matchesKeyId(cert: Cert, keyId: Uint8Array): boolean {
  const ski = subjectKeyId(cert);
  return (ski !== undefined && equalBytes(ski, keyId)) || equalBytes(sha1KeyId(cert), keyId);
}


/** The issuer Name and serialNumber exactly as encoded in the certificate (CMS identifiers must match byte for byte). */
const rawCache = new WeakMap<Cert, { issuer: Uint8Array; serial: Uint8Array }>();

export function rawIssuerAndSerial(cert: Cert): { issuer: Uint8Array; serial: Uint8Array } {
  const hit = rawCache.get(cert);
  if (hit) return hit;
  const root = parseDer(cert.der, 'certificate') as asn1js.Sequence;
  const tbs = (root.valueBlock.value[0] as asn1js.Sequence).valueBlock.value;
  const first = tbs[0]!;
  const i = first.idBlock.tagClass === 3 && first.idBlock.tagNumber === 0 ? 1 : 0;
  const raw = { serial: bytesOf(tbs[i]!.valueBeforeDecodeView).slice(), issuer: bytesOf(tbs[i + 2]!.valueBeforeDecodeView).slice() };
  rawCache.set(cert, raw);
  return raw;
}
