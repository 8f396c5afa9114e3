/**
 * `postern cert`: the public S/MIME certificates of users, which encryption at
 * rest encrypts their mail to, and of outside correspondents, which the DLP
 * action "encrypt" encrypts outbound mail to. Only certificates go in, never keys: the owner
 * keeps the private key in their mail client, so nothing on the server opens
 * their stored mail. import checks the certificate can do that job (parses,
 * names the address, an RSA ≥ 2048 or EC P-256/384/521 key that may encrypt,
 * emailProtection when it has an EKU) and is audited, as is remove.
 */
import { promises as fsp } from 'node:fs';
import type { Command } from 'commander';
import { domainOf, normalizeAddress } from '../../core/address.js';
import { parseCertificates, type Cert } from '../../crypto/smime/index.js';
import { keyUsage } from '../../crypto/smime/certs.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { audited } from '../audit.js';
import type { StoredCertificate } from '../../store/types.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);
const MAX_CERT_FILE = 256 * 1024;
const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
const ANY_EKU = '2.5.29.37.0';
const CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
// keyUsage bit numbers (RFC 5280 4.2.1.3).
const KEY_ENCIPHERMENT = 2;
const KEY_AGREEMENT = 4;

export interface CheckedCertificate {
  der: Uint8Array;
  fingerprint: string;
  notBefore: number;
  notAfter: number;
  subject: string;
  key: string;
}

/** What is wrong with a certificate as `address`'s encryption certificate; [] when it will do. */
export function certificateProblems(cert: Cert, address: string, now: number): string[] {
  const problems: string[] = [];
  const x = cert.x509;
  if (x.checkEmail(address, { subject: 'default' }) === undefined) problems.push(`it does not name ${address} (subjectAltName email or subject emailAddress)`);
  const pk = x.publicKey;
  const type = pk.asymmetricKeyType;
  const details = pk.asymmetricKeyDetails ?? {};
  if (type === 'rsa') {
    if ((details.modulusLength ?? 0) < 2048) problems.push(`its RSA key has ${details.modulusLength ?? '?'} bits; at least 2048 are needed`);
  } else if (type === 'ec') {
    if (!CURVES.has(details.namedCurve ?? '')) problems.push(`its EC key is on ${details.namedCurve ?? 'an unnamed curve'}; P-256, P-384 or P-521 are supported`);
  } else {
    problems.push(`its key is ${type ?? 'unknown'}; an RSA or EC key is needed`);
  }
  const ku = keyUsage(cert);
  if (ku && type === 'rsa' && !ku.has(KEY_ENCIPHERMENT)) problems.push('its keyUsage does not allow keyEncipherment');
  if (ku && type === 'ec' && !ku.has(KEY_AGREEMENT)) problems.push('its keyUsage does not allow keyAgreement');
  const eku = x.keyUsage;
  if (eku && eku.length > 0 && !eku.includes(EMAIL_PROTECTION) && !eku.includes(ANY_EKU)) problems.push('its extendedKeyUsage does not include emailProtection');
  if (Date.parse(x.validTo) <= now) problems.push(`it expired on ${new Date(x.validTo).toISOString()}`);
  if (x.ca) problems.push('it is a CA certificate');
  return problems;
}

/** Reads a PEM or DER file: exactly one certificate (a chain file's first is the user's). */
export async function readCertificateFile(file: string): Promise<Cert> {
  let st;
  try {
    st = await fsp.stat(file);
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  if (!st.isFile() || st.size > MAX_CERT_FILE) throw new UsageError(`${file} is not a certificate file (at most ${MAX_CERT_FILE / 1024} KiB)`);
  const bytes = await fsp.readFile(file);
  const pem = bytes.includes('-----BEGIN CERTIFICATE-----');
  try {
    return parseCertificates(pem ? bytes.toString('latin1') : new Uint8Array(bytes))[0]!;
  } catch (e) {
    throw new UsageError(`${file} is not a readable ${pem ? 'PEM' : 'DER'} certificate: ${(e as Error).message}`);
  }
}

export function checkCertificate(cert: Cert, address: string, now: number): CheckedCertificate {
  const problems = certificateProblems(cert, address, now);
  if (problems.length > 0) throw new UsageError(`certificate refused for ${address}: ${problems.join('; ')}`);
  const x = cert.x509;
  const d = x.publicKey.asymmetricKeyDetails ?? {};
  return {
    der: cert.der,
    fingerprint: x.fingerprint256.replace(/:/g, '').toLowerCase(),
    notBefore: Date.parse(x.validFrom),
    notAfter: Date.parse(x.validTo),
    subject: x.subject.split('\n').filter(Boolean).join(', '),
    key: x.publicKey.asymmetricKeyType === 'rsa' ? `RSA-${d.modulusLength}` : `EC ${d.namedCurve}`,
  };
}

function addressArg(a: string): string {
  const n = normalizeAddress(a);
  if (!n) throw new UsageError(`not a valid address: ${JSON.stringify(a)}`);
  return n;
}

const FINGERPRINT_RE = /^[0-9a-f]{64}$/;
const fingerprintArg = (f: string): string => {
  const n = f.replace(/:/g, '').toLowerCase();
  if (!FINGERPRINT_RE.test(n)) throw new UsageError('a fingerprint is the certificate\'s SHA-256: 64 hex digits (colons allowed)');
  return n;
};

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const state = (c: StoredCertificate, now: number) => (c.revoked ? 'revoked' : now < c.notBefore ? 'not yet valid' : now >= c.notAfter ? 'expired' : 'valid');

export function registerCertCommands(program: Command): void {
  const cert = program
    .command('cert')
    .description('S/MIME certificates (public) of users, which encryption at rest encrypts their mail to, and of correspondents, which DLP "encrypt" sends to');
  cert
    .command('import <address> <file>')
    .description('add a user\'s or an outside correspondent\'s certificate (PEM or DER) after checking it names the address and can encrypt')
    .action(async (address: string, file: string, _o: unknown, cmd: Command) => {
      const a = addressArg(address);
      const now = Date.now();
      const c = checkCertificate(await readCertificateFile(file), a, now);
      await withStore(cfg(cmd), async (s) => {
        // An address of our domains must be an account; an outside address is a correspondent (DLP "encrypt" sends to it).
        if ((await s.meta.directory.hasDomain(domainOf(a))) && !(await s.meta.directory.getAccount(a))) throw new UsageError(`no account ${a}`);
        const stored = await s.meta.certificates.put({ address: a, der: c.der, fingerprint: c.fingerprint, source: 'uploaded', notBefore: c.notBefore, notAfter: c.notAfter }, now);
        await audited(s, 'cert.import', a, { fingerprint: c.fingerprint, subject: c.subject, key: c.key, notAfter: c.notAfter });
        console.log(`${a}: certificate ${stored.fingerprint} (${c.key}, valid ${iso(c.notBefore)} to ${iso(c.notAfter)})${stored.revoked ? ' — it was marked revoked before and stays so' : ''}`);
      });
    });
  cert
    .command('list [address]')
    .description('certificates of an address, or of everyone')
    .option('--json', 'machine-readable output')
    .action(async (address: string | undefined, o: { json?: boolean }, cmd: Command) => {
      const a = address === undefined ? undefined : addressArg(address);
      const now = Date.now();
      const list = await withStore(cfg(cmd), (s) => s.meta.certificates.list(a));
      if (o.json) {
        const rows = list.map((c) => ({ address: c.address, fingerprint: c.fingerprint, source: c.source, notBefore: c.notBefore, notAfter: c.notAfter, addedAt: c.addedAt, revoked: c.revoked, state: state(c, now) }));
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      if (list.length === 0) console.log(a ? `no certificates for ${a}` : 'no certificates');
      for (const c of list) console.log(`${c.address}  ${c.fingerprint}  ${c.source}  ${iso(c.notBefore)}..${iso(c.notAfter)}  ${state(c, now)}`);
    });
  cert
    .command('remove <fingerprint>')
    .description('remove a certificate (mail already stored stays encrypted to it)')
    .action(async (fingerprint: string, _o: unknown, cmd: Command) => {
      const f = fingerprintArg(fingerprint);
      await withStore(cfg(cmd), async (s) => {
        const owners = (await s.meta.certificates.list()).filter((c) => c.fingerprint === f).map((c) => c.address);
        if (!(await s.meta.certificates.remove(f))) throw new UsageError(`no certificate ${f}`);
        await audited(s, 'cert.remove', f, { addresses: owners });
        console.log(`removed certificate ${f}${owners.length ? ` (${owners.join(', ')})` : ''}`);
      });
    });
}
