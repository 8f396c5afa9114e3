/**
 * `postern cert import` checks: certificates made with the openssl CLI, one
 * fault each, must be refused with the reason; a proper user certificate
 * (RSA or EC, emailProtection, the address in subjectAltName) passes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { certificateProblems, checkCertificate, readCertificateFile } from '../../src/cli/commands/cert.js';
import { parseCertificate } from '../../src/crypto/smime/index.js';
import { makePki, openssl, type Pki } from '../support/smime-pki.js';

let pki: Pki;
beforeAll(() => {
  pki = makePki();
}, 60_000);
afterAll(() => pki?.cleanup());

/** A self-signed certificate with the given key and extensions. */
function selfSigned(name: string, keyArgs: string[], ext: string[]): string {
  const file = path.join(pki.dir, `${name}.crt`);
  openssl(['req', '-x509', '-newkey', ...keyArgs, '-nodes', '-keyout', path.join(pki.dir, `${name}.key`), '-subj', `/CN=${name}`, '-days', '30', '-out', file, ...ext.flatMap((e) => ['-addext', e])]);
  return readFileSync(file, 'utf8');
}

const NOW = Date.now();

describe('certificate checks for cert import', () => {
  it('accepts the user\'s RSA and EC certificates for their own address only', () => {
    expect(certificateProblems(parseCertificate(pki.rsa.certPem), 'rsa@example.test', NOW)).toEqual([]);
    expect(certificateProblems(parseCertificate(pki.p256.certPem), 'p256@example.test', NOW)).toEqual([]);
    expect(certificateProblems(parseCertificate(pki.rsa.certPem), 'someone@example.test', NOW)).toEqual([expect.stringMatching(/does not name someone@example\.test/)]);
    const c = checkCertificate(parseCertificate(pki.p256.certPem), 'p256@example.test', NOW);
    expect(c.key).toBe('EC prime256v1');
    expect(c.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(c.notAfter).toBeGreaterThan(NOW);
  });

  it('refuses, with the reason, certificates that cannot serve for encryption', () => {
    // openssl req -x509 marks certificates as CAs unless told otherwise.
    const san = 'subjectAltName=email:u@example.test';
    const leaf = 'basicConstraints=critical,CA:FALSE';
    const cases: [string, string[], string[], RegExp][] = [
      ['server-eku', ['rsa:2048'], [san, leaf, 'extendedKeyUsage=serverAuth'], /emailProtection/],
      ['ed25519', ['ed25519'], [san, leaf], /an RSA or EC key is needed/],
      ['rsa1024', ['rsa:1024'], [san, leaf], /at least 2048/],
      ['sign-only', ['rsa:2048'], [san, leaf, 'keyUsage=critical,digitalSignature'], /keyEncipherment/],
      ['ec-sign-only', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], [san, leaf, 'keyUsage=critical,digitalSignature'], /keyAgreement/],
      ['ca', ['rsa:2048'], [san, 'basicConstraints=critical,CA:TRUE'], /CA certificate/],
    ];
    for (const [name, key, ext, why] of cases) {
      const problems = certificateProblems(parseCertificate(selfSigned(name, key, ext)), 'u@example.test', NOW);
      expect(problems, name).toEqual([expect.stringMatching(why)]);
    }
    expect(certificateProblems(parseCertificate(pki.rsa.certPem), 'rsa@example.test', NOW + 3 * 365 * 86_400_000)).toEqual([expect.stringMatching(/expired/)]);
    expect(() => checkCertificate(parseCertificate(pki.rsa.certPem), 'x@example.test', NOW)).toThrow(/certificate refused for x@example\.test/);
  });

  it('reads PEM and DER files and refuses anything else clearly', async () => {
    const der = path.join(pki.dir, 'rsa.der');
    openssl(['x509', '-in', pki.rsa.certFile, '-outform', 'DER', '-out', der]);
    expect((await readCertificateFile(der)).x509.subject).toMatch(/rsa tester/);
    expect((await readCertificateFile(pki.rsa.certFile)).x509.subject).toMatch(/rsa tester/);
    const junk = path.join(pki.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate at all');
    await expect(readCertificateFile(junk)).rejects.toThrow(/not a readable DER certificate/);
    await expect(readCertificateFile(pki.rsa.keyFile)).rejects.toThrow(/not a readable/);
    await expect(readCertificateFile(path.join(pki.dir, 'missing.pem'))).rejects.toThrow(/ENOENT/);
  });
});
