/**
 * The CA itself: `createCa` makes a self-signed root (basicConstraints CA,
 * pathlen 0: it issues people's certificates, never other CAs; keyUsage
 * keyCertSign + cRLSign; SKI = AKI). The key is behind a Signer; when the
 * caller gives none, a software key is made and handed back once, for the
 * caller to protect (the M-of-N step splits it). `resolveCa` checks that a
 * stored CA certificate and its Signer belong together before anything is
 * signed with them.
 */
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { bool, explicit, oid, seq, set, smallUint, uint, utf8 } from '../der.js';
import { type Cert, KU, basicConstraints, keyUsage, parseCertificate } from '../smime/certs.js';
import { CaError, type Signer, signatureAlgorithm, softwareSigner } from './signer.js';
import {
  CA_OID, DAY, HOUR, type TbsParts, akiExtension, checkCommonName, extension, fromPem, keyUsageExtension, randomSerial, signTbs, skiExtension, tbsParts, toPem, validity,
} from './x509.js';
import { checkSubjectKey } from './subjectkey.js';

export type CaKeyAlgorithm = 'rsa-3072' | 'p-256' | 'p-384';

/** What issuing needs: the CA certificate (DER or PEM) and the Signer holding its key. */
export interface Ca {
  certificate: Uint8Array | string;
  signer: Signer;
}

export interface CreateCaOptions {
  /** The CA's common name, or a name with an organisation. */
  subject: string | { commonName: string; organization?: string };
  /** Required unless a signer is given; when both are, they must agree. */
  keyAlgorithm?: CaKeyAlgorithm;
  /** 1 to 10 950 (30 years). */
  validityDays: number;
  signer?: Signer;
  now?: Date;
}

export interface CreatedCa extends Ca {
  certificate: Uint8Array;
  certificatePem: string;
  /** Only when this call made the key (no signer given): store it protected, it is not kept here. */
  privateKey?: KeyObject;
}

const MAX_CA_DAYS = 10_950;

function keyPair(alg: CaKeyAlgorithm): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _pub: KeyObject, priv: KeyObject): void => (err ? reject(err) : resolve(priv));
    if (alg === 'rsa-3072') generateKeyPair('rsa', { modulusLength: 3072 }, done);
    else generateKeyPair('ec', { namedCurve: alg === 'p-256' ? 'prime256v1' : 'secp384r1' }, done);
  });
}

export function checkDays(days: number, max: number): number {
  if (!Number.isInteger(days) || days < 1 || days > max) throw new CaError(`validityDays must be a whole number from 1 to ${max}, got ${days}`);
  return days;
}

function caName(subject: CreateCaOptions['subject']): Buffer {
  const { commonName, organization } = typeof subject === 'string' ? { commonName: subject, organization: undefined } : subject;
  const rdns: Buffer[] = [];
  if (organization !== undefined) rdns.push(set(seq(oid('2.5.4.10'), utf8(checkCommonName(organization)))));
  rdns.push(set(seq(oid(CA_OID.commonName), utf8(checkCommonName(commonName)))));
  return seq(...rdns);
}

/** The key a signer's public key must be for the named algorithm. */
function checkSignerFits(signer: Signer, alg: CaKeyAlgorithm | undefined): void {
  const key = checkSubjectKey(signer.publicKeySpki);
  const expected = key.kind === 'rsa' ? 'rsa-pkcs1-sha256' : key.description === 'P-256' ? 'ecdsa-sha256' : 'ecdsa-sha384';
  if (signer.algorithm !== expected) throw new CaError(`a ${key.description} key signs with ${expected}, the signer says ${signer.algorithm}`);
  const named: Record<CaKeyAlgorithm, string> = { 'rsa-3072': 'RSA 3072', 'p-256': 'P-256', 'p-384': 'P-384' };
  if (alg && named[alg] !== key.description) throw new CaError(`keyAlgorithm ${alg} but the signer's key is ${key.description}`);
}

export async function createCa(opts: CreateCaOptions): Promise<CreatedCa> {
  const days = checkDays(opts.validityDays, MAX_CA_DAYS);
  if (!opts.signer && !opts.keyAlgorithm) throw new CaError('createCa needs a keyAlgorithm or a signer');
  if (opts.keyAlgorithm && !['rsa-3072', 'p-256', 'p-384'].includes(opts.keyAlgorithm)) throw new CaError(`unsupported keyAlgorithm ${String(opts.keyAlgorithm)}`);
  let privateKey: KeyObject | undefined;
  let signer = opts.signer;
  if (!signer) {
    privateKey = await keyPair(opts.keyAlgorithm!);
    signer = softwareSigner(privateKey);
  }
  checkSignerFits(signer, opts.keyAlgorithm);
  const key = checkSubjectKey(signer.publicKeySpki);
  const now = (opts.now ?? new Date()).getTime();
  const name = caName(opts.subject);
  const tbs = seq(
    explicit(0, smallUint(2)),
    uint(randomSerial()),
    signatureAlgorithm(signer.algorithm),
    name,
    validity(new Date(now - HOUR), new Date(now + days * DAY)),
    name,
    key.spki,
    explicit(3, seq(
      extension(CA_OID.basicConstraints, true, seq(bool(true), smallUint(0))), // cA TRUE, pathLen 0
      keyUsageExtension(0x06, 1), // keyCertSign (5) + cRLSign (6)
      skiExtension(key.keyId),
      akiExtension(key.keyId),
    )),
  );
  const certificate = await signTbs(signer, tbs);
  const out: CreatedCa = { certificate, certificatePem: toPem('CERTIFICATE', certificate), signer };
  if (privateKey) out.privateKey = privateKey;
  return out;
}

/** A CA made ready for signing: parsed once, its Signer checked against its certificate. */
export interface ResolvedCa {
  der: Uint8Array;
  cert: Cert;
  parts: TbsParts;
  keyId: Uint8Array;
  signer: Signer;
  notAfter: Date;
}

const resolved = new WeakMap<Ca, ResolvedCa>();

export function resolveCa(ca: Ca): ResolvedCa {
  const hit = resolved.get(ca);
  if (hit) return hit;
  let der: Uint8Array;
  let cert: Cert;
  let parts: TbsParts;
  try {
    der = fromPem(ca.certificate, ['CERTIFICATE'], 64 * 1024);
    cert = parseCertificate(der);
    parts = tbsParts(der);
  } catch (err) {
    throw err instanceof CaError ? err : new CaError(`CA certificate: ${(err as Error).message}`);
  }
  if (!basicConstraints(cert).ca) throw new CaError('the CA certificate is not a CA (basicConstraints)');
  const ku = keyUsage(cert);
  if (ku && (!ku.has(KU.keyCertSign) || !ku.has(KU.cRLSign))) throw new CaError('the CA certificate may not sign certificates and CRLs (keyUsage)');
  checkSignerFits(ca.signer, undefined);
  const certKey = checkSubjectKey(parts.spki);
  if (!certKey.spki.equals(checkSubjectKey(ca.signer.publicKeySpki).spki)) throw new CaError("the signer's key is not the CA certificate's key");
  const skiExt = parts.extensions.get(CA_OID.subjectKeyIdentifier);
  // The SKI extension holds an OCTET STRING; strip its two header bytes (a key id is < 128 bytes).
  const keyId = skiExt && skiExt[0] === 0x04 && skiExt[1] === skiExt.length - 2 ? skiExt.subarray(2) : certKey.keyId;
  const r: ResolvedCa = { der, cert, parts, keyId, signer: ca.signer, notAfter: cert.pki.notAfter.value };
  resolved.set(ca, r);
  return r;
}
