/**
 * S/MIME end-entity certificates (RFC 8550 profile): subject CN +
 * emailAddress, SAN rfc822Name = the address, keyUsage digitalSignature +
 * keyEncipherment (RSA) or digitalSignature + keyAgreement (EC, RFC 5480
 * allows no keyEncipherment there), EKU emailProtection, SKI/AKI, an optional
 * CRL distribution point, a random 16-byte serial. Three ways in: a user's
 * CSR (`issueFromCsr`), a key made here (`issueWithKey`), or an existing
 * certificate of this CA (`renew`, same key and subject, new serial).
 */
import { createPublicKey, generateKeyPair, type KeyObject, X509Certificate } from 'node:crypto';
import { explicit, oid, seq, smallUint, tlv, uint } from '../der.js';
import { certEmail, parseCertificate } from '../smime/certs.js';
import { type Ca, type ResolvedCa, checkDays, resolveCa } from './ca.js';
import { parseCsr } from './csr.js';
import { CaError, signatureAlgorithm } from './signer.js';
import {
  CA_OID, DAY, HOUR, akiExtension, checkCommonName, crlDpExtension, encodeName, extension, fromPem, keyUsageExtension, randomSerial, serialBytes, signTbs, skiExtension, tbsParts, toPem, validity,
} from './x509.js';
import { type SubjectKey, checkSubjectKey } from './subjectkey.js';

/** CA/Browser Forum S/MIME Baseline Requirements: at most 825 days. */
export const MAX_LEAF_DAYS = 825;

export interface LeafOptions {
  validityDays: number;
  /** Default: 16 random bytes. */
  serial?: Uint8Array | string | bigint;
  /** Issue time; default now. notBefore is an hour earlier for slow clocks. */
  now?: Date;
  /** An http(s) URL put in a CRL distribution point. */
  crlUrl?: string;
}

export interface IssueOptions extends LeafOptions {
  /** The address the certificate is for (the caller has authenticated its owner). */
  email: string;
  /** Default: the address. The request's own subject is never copied. */
  commonName?: string;
}

export interface Issued {
  certificate: Uint8Array;
  certificatePem: string;
  /** Hex, upper-case, as the certificate encodes it. */
  serial: string;
}

export type LeafKeyAlgorithm = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'p-256' | 'p-384';

/** An ASCII addr-spec with a DNS domain (SAN rfc822Name is IA5String); the domain is lower-cased. */
export function checkEmail(email: string): string {
  const m = /^([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64})@([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+)$/.exec(email);
  if (!m || email.length > 254 || m[1]!.startsWith('.') || m[1]!.endsWith('.') || m[1]!.includes('..')) throw new CaError(`not an address this CA issues for: ${JSON.stringify(email)}`);
  return `${m[1]}@${m[2]!.toLowerCase()}`;
}

interface Leaf extends LeafOptions {
  key: SubjectKey;
  email: string;
  subject: Uint8Array;
  /** A CRL distribution point extension carried over on renewal. */
  crlDp?: Uint8Array;
}

async function issueLeaf(ca: ResolvedCa, leaf: Leaf): Promise<Issued> {
  const days = checkDays(leaf.validityDays, MAX_LEAF_DAYS);
  const now = (leaf.now ?? new Date()).getTime();
  if (now >= ca.notAfter.getTime()) throw new CaError('the CA certificate has expired');
  // A certificate cannot outlive its issuer's: verifiers would refuse it then anyway.
  const notAfter = Math.min(now + days * DAY, ca.notAfter.getTime());
  const serial = leaf.serial === undefined ? randomSerial() : serialBytes(leaf.serial);
  const ku = leaf.key.kind === 'rsa' ? keyUsageExtension(0xa0, 5) : keyUsageExtension(0x88, 3);
  const exts = [
    extension(CA_OID.basicConstraints, true, seq()),
    ku,
    extension(CA_OID.extKeyUsage, false, seq(oid(CA_OID.emailProtection))),
    extension(CA_OID.subjectAltName, false, seq(tlv(0x81, Buffer.from(leaf.email, 'ascii')))),
    skiExtension(leaf.key.keyId),
    akiExtension(ca.keyId),
  ];
  if (leaf.crlUrl !== undefined) exts.push(crlDpExtension(leaf.crlUrl));
  else if (leaf.crlDp) exts.push(extension(CA_OID.crlDistributionPoints, false, leaf.crlDp));
  const tbs = seq(
    explicit(0, smallUint(2)),
    uint(serial),
    signatureAlgorithm(ca.signer.algorithm),
    ca.parts.subject,
    validity(new Date(now - HOUR), new Date(notAfter)),
    leaf.subject,
    leaf.key.spki,
    explicit(3, seq(...exts)),
  );
  const certificate = await signTbs(ca.signer, tbs);
  return { certificate, certificatePem: toPem('CERTIFICATE', certificate), serial: Buffer.from(tbsParts(certificate).serial).toString('hex').toUpperCase() };
}

/**
 * Issues for a user's CSR: its signature must verify, its key must pass the
 * key policy, and every address it names must be `email`. Only the key is
 * taken from it; requested extensions and the requested subject are ignored.
 */
export async function issueFromCsr(ca: Ca, csr: Uint8Array | string, opts: IssueOptions): Promise<Issued> {
  const r = resolveCa(ca);
  const email = checkEmail(opts.email);
  const req = parseCsr(csr);
  const other = req.emails.find((e) => e !== email.toLowerCase());
  if (other !== undefined) throw new CaError(`the request names another address (${JSON.stringify(other)}), not ${email}`);
  return issueLeaf(r, { ...opts, key: req.key, email, subject: encodeName(checkCommonName(opts.commonName ?? email), email) });
}

function leafKey(alg: LeafKeyAlgorithm): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _pub: KeyObject, priv: KeyObject): void => (err ? reject(err) : resolve(priv));
    const rsa: Partial<Record<LeafKeyAlgorithm, number>> = { 'rsa-2048': 2048, 'rsa-3072': 3072, 'rsa-4096': 4096 };
    if (rsa[alg]) generateKeyPair('rsa', { modulusLength: rsa[alg] }, done);
    else if (alg === 'p-256' || alg === 'p-384') generateKeyPair('ec', { namedCurve: alg === 'p-256' ? 'prime256v1' : 'secp384r1' }, done);
    else reject(new CaError(`unsupported keyAlgorithm ${String(alg)}`));
  });
}

/** Makes a key pair here and issues for it: for users without their own key tooling. The key is returned, not kept. */
export async function issueWithKey(ca: Ca, opts: IssueOptions & { keyAlgorithm: LeafKeyAlgorithm }): Promise<Issued & { privateKey: KeyObject }> {
  const r = resolveCa(ca);
  const email = checkEmail(opts.email);
  const subject = encodeName(checkCommonName(opts.commonName ?? email), email);
  const privateKey = await leafKey(opts.keyAlgorithm);
  const key = checkSubjectKey(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  return { ...(await issueLeaf(r, { ...opts, key, email, subject })), privateKey };
}

/** A new certificate for the same key, subject and address as one this CA issued; new serial and dates. */
export async function renew(ca: Ca, oldCert: Uint8Array | string, opts: LeafOptions): Promise<Issued> {
  const r = resolveCa(ca);
  let parts;
  let email: string | undefined;
  let ours = false;
  try {
    const der = fromPem(oldCert, ['CERTIFICATE'], 64 * 1024);
    parts = tbsParts(der);
    email = certEmail(parseCertificate(der));
    ours = Buffer.from(parts.issuer).equals(Buffer.from(r.parts.subject)) && new X509Certificate(der).verify(r.cert.x509.publicKey);
  } catch (err) {
    throw err instanceof CaError ? err : new CaError(`certificate to renew: ${(err as Error).message}`);
  }
  if (!ours) throw new CaError('the certificate to renew was not issued by this CA');
  if (!email) throw new CaError('the certificate to renew names no address');
  const leaf: Leaf = { ...opts, key: checkSubjectKey(parts.spki), email: checkEmail(email), subject: parts.subject };
  const dp = parts.extensions.get(CA_OID.crlDistributionPoints);
  if (dp) leaf.crlDp = dp;
  return issueLeaf(r, leaf);
}
