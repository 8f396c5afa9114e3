/**
 * A throw-away PKI for tests: a CA, leaf certificates it signs, and
 * self-signed certificates, all ECDSA P-256, created in memory per run with
 * postern's own DER encoder and node:crypto.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { bits, bool, explicit, implicit, octets, oid, seq, set, smallUint, time, uint, utf8 } from '../../../src/crypto/der.js';

const DAY = 86_400_000;
const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

export interface KeyCert {
  certPem: string;
  keyPem: string;
  certDer: Buffer;
  /** DANE 3 1 1 data: SHA-256 of the SubjectPublicKeyInfo. */
  spkiSha256: Buffer;
}

const ext = (id: string, critical: boolean, value: Buffer): Buffer => (critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value)));
const nameOf = (cn: string) => seq(set(seq(oid(OID.commonName), utf8(cn))));
const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
const keyId = (k: KeyObject) => createHash('sha256').update(k.export({ type: 'spki', format: 'der' })).digest().subarray(0, 20);

interface CertSpec {
  cn: string;
  sans: string[];
  ca: boolean;
  notBefore: number;
  notAfter: number;
  publicKey: KeyObject;
  issuer: { cn: string; key: KeyObject; publicKey: KeyObject };
}

function makeCert(s: CertSpec): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 1;
  const alg = seq(oid(OID.ecdsaWithSha256));
  const exts = [
    ext(OID.basicConstraints, true, s.ca ? seq(bool(true)) : seq()),
    ext(OID.keyUsage, true, s.ca ? bits(Buffer.from([0x06]), 1) : bits(Buffer.from([0x80]), 7)),
    ext(OID.subjectKeyIdentifier, false, octets(keyId(s.publicKey))),
    ext(OID.authorityKeyIdentifier, false, seq(implicit(0, keyId(s.issuer.publicKey)))),
  ];
  if (!s.ca) exts.push(ext(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))));
  if (s.sans.length) exts.push(ext(OID.subjectAltName, false, seq(...s.sans.map((n) => implicit(2, Buffer.from(n, 'ascii'))))));
  const tbs = seq(
    explicit(0, smallUint(2)),
    uint(serial),
    alg,
    nameOf(s.issuer.cn),
    seq(time(new Date(s.notBefore)), time(new Date(s.notAfter))),
    nameOf(s.cn),
    s.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...exts)),
  );
  return seq(tbs, alg, bits(sign('sha256', tbs, { key: s.issuer.key, dsaEncoding: 'der' })));
}

function keyCert(der: Buffer, key: KeyObject): KeyCert {
  const x = new X509Certificate(der);
  const spki = x.publicKey.export({ type: 'spki', format: 'der' });
  return { certPem: pem('CERTIFICATE', der), certDer: der, keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(), spkiSha256: createHash('sha256').update(spki).digest() };
}

const ecKeys = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

export class TestCa {
  private constructor(
    private readonly cn: string,
    private readonly key: KeyObject,
    private readonly pub: KeyObject,
    readonly certPem: string,
    readonly certDer: Buffer,
  ) {}

  static async create(cn = 'postern test CA'): Promise<TestCa> {
    const { publicKey, privateKey } = ecKeys();
    const now = Date.now();
    const der = makeCert({ cn, sans: [], ca: true, notBefore: now - DAY, notAfter: now + 30 * DAY, publicKey, issuer: { cn, key: privateKey, publicKey } });
    return new TestCa(cn, privateKey, publicKey, pem('CERTIFICATE', der), der);
  }

  /** A server (and client) certificate for the given DNS names, signed by this CA. */
  async issue(names: string[], opts: { expired?: boolean } = {}): Promise<KeyCert> {
    const { publicKey, privateKey } = ecKeys();
    const now = Date.now();
    const der = makeCert({
      cn: names[0]!,
      sans: names,
      ca: false,
      notBefore: now - (opts.expired ? 10 : 1) * DAY,
      notAfter: now + (opts.expired ? -5 : 10) * DAY,
      publicKey,
      issuer: { cn: this.cn, key: this.key, publicKey: this.pub },
    });
    return keyCert(der, privateKey);
  }
}

/** A self-signed certificate (no CA vouches for it). */
export async function selfSigned(name: string): Promise<KeyCert> {
  const { publicKey, privateKey } = ecKeys();
  const now = Date.now();
  const der = makeCert({ cn: name, sans: [name], ca: false, notBefore: now - DAY, notAfter: now + 10 * DAY, publicKey, issuer: { cn: name, key: privateKey, publicKey } });
  return keyCert(der, privateKey);
}
