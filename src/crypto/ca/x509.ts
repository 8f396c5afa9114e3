/**
 * The pieces every certificate and CRL here is built from: names, serials,
 * extensions, PEM, and the final
 * "TBS + signature" assembly through a Signer. Encoding is ../der.ts, so what
 * is signed is exactly what is written.
 */
import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { bits, bool, octets, oid, seq, set, time, tlv, uint, utf8 } from '../der.js';
import { bytesOf, children, oidOf, parseDer, rawOf } from '../smime/asn1.js';
import { OID } from '../smime/oids.js';
import { CaError, type Signer, signChecked, signatureAlgorithm } from './signer.js';

export const CA_OID = {
  ...OID,
  commonName: '2.5.4.3',
  subjectAltName: '2.5.29.17',
  extKeyUsage: '2.5.29.37',
  authorityKeyIdentifier: '2.5.29.35',
  crlDistributionPoints: '2.5.29.31',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  extensionRequest: '1.2.840.113549.1.9.14',
  smtpUtf8Mailbox: '1.3.6.1.5.5.7.8.9',
} as const;

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

const ia5 = (s: string): Buffer => tlv(0x16, Buffer.from(s, 'ascii'));

export const extension = (id: string, critical: boolean, value: Uint8Array): Buffer =>
  critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));

/** CN (UTF8String) and, for people, emailAddress (IA5String, PKCS #9), as S/MIME clients expect. */
export function encodeName(commonName: string, email?: string): Buffer {
  const rdns = [set(seq(oid(CA_OID.commonName), utf8(commonName)))];
  if (email) rdns.push(set(seq(oid(CA_OID.emailAddress), ia5(email))));
  return seq(...rdns);
}

export function checkCommonName(cn: string): string {
  if (cn.length < 1 || cn.length > 64 || /[\p{Cc}\p{Cf}]/u.test(cn)) throw new CaError('a common name is 1 to 64 characters without control characters');
  return cn;
}

/** A random positive 16-byte serial whose first byte is not zero (RFC 5280 4.1.2.2: ≥ 64 bits of entropy, ≤ 20 octets). */
export function randomSerial(): Uint8Array {
  const s = randomBytes(16);
  s[0] = (s[0]! & 0x7f) | 0x01;
  return new Uint8Array(s);
}

/** A caller's serial: bytes, hex text or a bigint; positive and at most 20 octets once encoded. */
export function serialBytes(input: Uint8Array | string | bigint): Uint8Array {
  let bytes: Uint8Array;
  if (typeof input === 'bigint') {
    if (input <= 0n) throw new CaError('a serial number must be positive');
    let hex = input.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    bytes = new Uint8Array(Buffer.from(hex, 'hex'));
  } else if (typeof input === 'string') {
    const clean = input.replace(/[:\s]/g, '');
    if (!/^[0-9a-fA-F]+$/.test(clean)) throw new CaError('a serial number in text is hex');
    bytes = new Uint8Array(Buffer.from(clean.length % 2 ? `0${clean}` : clean, 'hex'));
  } else {
    bytes = input;
  }
  const encoded = uint(bytes);
  if (encoded.length - 2 > 20) throw new CaError('a serial number is at most 20 octets');
  if (bytes.every((b) => b === 0)) throw new CaError('a serial number must be positive');
  return bytes;
}

export const skiExtension = (keyId: Uint8Array): Buffer => extension(CA_OID.subjectKeyIdentifier, false, octets(keyId));
export const akiExtension = (keyId: Uint8Array): Buffer => extension(CA_OID.authorityKeyIdentifier, false, seq(tlv(0x80, keyId)));

/** A CRL distribution point with one URI (fullName [0] { [6] URI }). */
export function crlDpExtension(url: string): Buffer {
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(url) || url.length > 1024) throw new CaError('the CRL URL must be an http(s) URL of printable ASCII');
  // DistributionPoint { distributionPoint [0] { fullName [0] { uniformResourceIdentifier [6] } } }
  const dpName = tlv(0xa0, tlv(0xa0, tlv(0x86, Buffer.from(url, 'ascii'))));
  return extension(CA_OID.crlDistributionPoints, false, seq(seq(dpName)));
}

export const keyUsageExtension = (first: number, unused: number, second?: number): Buffer =>
  extension(CA_OID.keyUsage, true, bits(Buffer.from(second === undefined ? [first] : [first, second]), unused));

export const validity = (from: Date, to: Date): Buffer => seq(time(from), time(to));

/** Signs a TBS structure through the Signer and returns the whole DER (Certificate or CertificateList). */
export async function signTbs(signer: Signer, tbs: Uint8Array): Promise<Uint8Array> {
  const signature = await signChecked(signer, tbs);
  return new Uint8Array(seq(tbs, signatureAlgorithm(signer.algorithm), bits(signature)));
}

export function toPem(label: string, der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** The DER inside the first PEM block with one of the labels, or the input itself when it is bytes. */
export function fromPem(input: string | Uint8Array, labels: readonly string[], max: number): Uint8Array {
  if (typeof input !== 'string') {
    if (input.length > max) throw new CaError(`input larger than ${max} bytes`);
    return input;
  }
  if (input.length > max * 2) throw new CaError(`input larger than ${max} bytes`);
  for (const label of labels) {
    const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`).exec(input);
    if (m) return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  }
  throw new CaError(`no PEM ${labels[0]} found`);
}

/** The TBSCertificate fields this library reuses, as encoded. */
export interface TbsParts {
  serial: Uint8Array;
  issuer: Uint8Array;
  subject: Uint8Array;
  spki: Uint8Array;
  extensions: Map<string, Uint8Array>;
}

export function tbsParts(certDer: Uint8Array): TbsParts {
  const [tbs] = children(parseDer(certDer, 'certificate'), 'Certificate');
  const f = children(tbs, 'TBSCertificate');
  const v = f[0]!.idBlock.tagClass === 3 && f[0]!.idBlock.tagNumber === 0 ? 1 : 0;
  const extensions = new Map<string, Uint8Array>();
  for (const node of f.slice(v + 6)) {
    if (node.idBlock.tagClass !== 3 || node.idBlock.tagNumber !== 3) continue;
    for (const ext of children(children(node, 'extensions')[0], 'Extensions')) {
      const parts = children(ext, 'Extension');
      const value = parts[parts.length - 1];
      if (value instanceof asn1js.OctetString) extensions.set(oidOf(parts[0], 'extension'), bytesOf(value.valueBlock.valueHexView));
    }
  }
  const serialNode = f[v] as asn1js.Integer;
  return { serial: bytesOf(serialNode.valueBlock.valueHexView), issuer: rawOf(f[v + 2]!), subject: rawOf(f[v + 4]!), spki: rawOf(f[v + 5]!), extensions };
}
