/**
 * A self-signed ECDSA P-256 server certificate, so a fresh install speaks TLS
 * from its first start. Peers doing opportunistic STARTTLS accept it; for
 * authenticated delivery publish its TLSA record (DANE-EE, see dnsrecords.ts)
 * or replace it with a CA-issued certificate.
 *
 * The certificate is encoded here (der.ts) and signed with node:crypto: the
 * X.509 libraries on npm need a global Reflect polyfill, and this is one
 * fixed structure of a few hundred bytes.
 */
import { createHash, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { bits, bool, explicit, implicit, ipBytes, octets, oid, seq, set, smallUint, time, uint, utf8 } from './der.js';

export interface SelfSignedOptions {
  hostname: string;
  altNames?: readonly string[];
  /** Validity in days from now; 825 is the longest most TLS clients accept. */
  days?: number;
  /** Issue time; injected by tests. */
  now?: Date;
}

export interface SelfSigned {
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_CN = 64; // ub-common-name, RFC 5280

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

function ecKeyPair(): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return new Promise((resolve, reject) => {
    generateKeyPair('ec', { namedCurve: 'prime256v1' }, (err, publicKey, privateKey) =>
      err ? reject(err) : resolve({ publicKey, privateKey }),
    );
  });
}

const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));

/** A GeneralName for the SAN: iPAddress [7] or dNSName [2]. */
function generalName(name: string): Buffer {
  if (isIP(name)) return implicit(7, ipBytes(name));
  if (/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(name)) return implicit(2, Buffer.from(name, 'ascii'));
  throw new RangeError(`not a host name: ${JSON.stringify(name)}`);
}

export async function generateSelfSigned(opts: SelfSignedOptions): Promise<SelfSigned> {
  const days = opts.days ?? 825;
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new RangeError(`days must be a whole number from 1 to 3650, got ${days}`);
  const now = (opts.now ?? new Date()).getTime();
  const hostname = opts.hostname.toLowerCase();

  // Subject alternative names are what clients check; the CN is for people.
  const sans = new Map<string, Buffer>();
  for (const name of [hostname, ...(opts.altNames ?? []).map((a) => a.toLowerCase())]) sans.set(name, generalName(name));
  // Loopback addresses let local clients and tests verify the certificate by IP.
  for (const ip of ['127.0.0.1', '::1']) if (!sans.has(ip)) sans.set(ip, generalName(ip));

  const { publicKey, privateKey } = await ecKeyPair();
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01; // positive and a full 16 bytes (RFC 5280 4.1.2.2)

  const name = seq(set(seq(oid(OID.commonName), utf8(hostname.length <= MAX_CN ? hostname : 'postern'))));
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const keyId = createHash('sha256').update(spki).digest().subarray(0, 20); // RFC 7093 method 1

  const tbs = seq(
    explicit(0, smallUint(2)), // v3
    uint(serial),
    algorithm,
    name,
    seq(time(new Date(now - HOUR)), time(new Date(now + days * DAY))), // an hour back for slow client clocks
    name,
    spki,
    explicit(
      3,
      seq(
        extension(OID.basicConstraints, true, seq()), // cA FALSE
        extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)), // digitalSignature only
        extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, seq(...sans.values())),
        extension(OID.subjectKeyIdentifier, false, octets(keyId)),
      ),
    ),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const cert = seq(tbs, algorithm, bits(signature));

  return {
    certPem: toPem('CERTIFICATE', cert),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function toPem(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}
