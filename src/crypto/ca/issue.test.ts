import { X509Certificate, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TempDir, openssl, tempDir, verifyLeaf } from '../../../test/crypto/ca/support.js';
import { CaError, type CreatedCa, createCa, issueFromCsr, issueWithKey, parseCsr, renew } from './index.js';

let t: TempDir;
let ca: CreatedCa;
beforeAll(async () => {
  t = tempDir();
  ca = await createCa({ subject: 'postern test CA', keyAlgorithm: 'p-256', validityDays: 3650 });
});
afterAll(() => t.cleanup());

const EMAIL = 'alice@example.test';

/** A CSR made by `openssl req -new`, PEM. */
function csr(name: string, keyArgs: readonly string[], subj: string, addext: readonly string[] = []): string {
  const key = t.path(`${name}.key`);
  const out = t.path(`${name}.csr`);
  openssl(['req', '-new', '-newkey', ...keyArgs, '-nodes', '-keyout', key, '-subj', subj, ...addext.flatMap((e) => ['-addext', e]), '-out', out]);
  return readFileSync(out, 'utf8');
}
const RSA = ['rsa:2048'];
const P256 = ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

function text(pem: string): string {
  return openssl(['x509', '-noout', '-text', '-in', t.put('show.pem', pem)]).toString();
}

describe('issueFromCsr', () => {
  it.each([
    ['RSA', RSA, 'Digital Signature, Key Encipherment'],
    ['EC P-256', P256, 'Digital Signature, Key Agreement'],
  ])('an openssl req %s CSR is issued as an S/MIME certificate OpenSSL accepts', async (name, keyArgs, ku) => {
    const req = csr(`req-${name}`, keyArgs, `/CN=Alice/emailAddress=${EMAIL}`, [`subjectAltName=email:${EMAIL}`, 'basicConstraints=critical,CA:TRUE']);
    const leaf = await issueFromCsr(ca, req, { email: EMAIL, validityDays: 365, crlUrl: 'http://ca.example.test/postern.crl' });
    expect(verifyLeaf(t, ca.certificatePem, leaf.certificatePem, ['-purpose', 'smimesign']).status).toBe(0);
    if (name === 'RSA') expect(verifyLeaf(t, ca.certificatePem, leaf.certificatePem, ['-purpose', 'smimeencrypt']).status).toBe(0);
    const x = text(leaf.certificatePem);
    expect(x).toContain(`Subject: CN = ${EMAIL}, emailAddress = ${EMAIL}`);
    expect(x).toMatch(new RegExp(`Key Usage: critical\\s+${ku}\\n`));
    expect(x).toMatch(/Extended Key Usage:\s+E-mail Protection\n/);
    expect(x).toMatch(new RegExp(`Subject Alternative Name:\\s+email:${EMAIL}\\n`));
    expect(x).toMatch(/Basic Constraints: critical\s+CA:FALSE/); // the requested CA:TRUE was ignored
    expect(x).toContain('URI:http://ca.example.test/postern.crl');
    expect(x).toContain('Authority Key Identifier');
    expect(x).toContain('Subject Key Identifier');
    // The certificate is for the CSR's key.
    const reqKey = createPublicKey(openssl(['req', '-in', t.put('r.csr', req), '-noout', '-pubkey']).toString());
    expect(new X509Certificate(leaf.certificate).publicKey.equals(reqKey)).toBe(true);
    expect(leaf.serial).toMatch(/^(?!00)[0-7][0-9A-F]{31}$/); // positive, 16 bytes, first byte not zero
  });

  it('an EC certificate is usable for encryption: openssl cms encrypts to it and decrypts with the key', async () => {
    const req = csr('ecenc', P256, `/CN=${EMAIL}`);
    const leaf = await issueFromCsr(ca, req, { email: EMAIL, validityDays: 30 });
    const msg = t.put('msg.txt', 'Content-Type: text/plain\r\n\r\nhello\r\n');
    const enc = t.path('msg.p7m');
    openssl(['cms', '-encrypt', '-binary', '-aes256', '-in', msg, '-out', enc, t.put('ecleaf.pem', leaf.certificatePem)]);
    const dec = openssl(['cms', '-decrypt', '-binary', '-in', enc, '-recip', t.path('ecleaf.pem'), '-inkey', t.path('ecenc.key')]);
    expect(dec.toString()).toBe('Content-Type: text/plain\r\n\r\nhello\r\n');
  });

  it('accepts a request naming the same address among other (ignored) names; a CA reloaded from PEM issues', async () => {
    const req = csr('same', P256, '/CN=Alice', [`subjectAltName=email:${EMAIL},DNS:www.example.test,URI:https://example.test/`]);
    const stored = { certificate: ca.certificatePem, signer: ca.signer };
    const leaf = await issueFromCsr(stored, req, { email: EMAIL, validityDays: 30 });
    const x = text(leaf.certificatePem);
    expect(x).toMatch(new RegExp(`Subject Alternative Name:\\s+email:${EMAIL}\\n`));
    expect(x).not.toContain('www.example.test');
    expect(verifyLeaf(t, ca.certificatePem, leaf.certificatePem, ['-purpose', 'smimesign']).status).toBe(0);
  });

  it('takes the common name from the caller, never from the request', async () => {
    const req = csr('cn', P256, `/CN=The CEO/O=Bank/emailAddress=${EMAIL}`);
    const leaf = await issueFromCsr(ca, req, { email: EMAIL, validityDays: 30, commonName: 'Alice Example' });
    expect(text(leaf.certificatePem)).toContain(`Subject: CN = Alice Example, emailAddress = ${EMAIL}`);
  });

  it('accepts DER and compares addresses without regard to case', async () => {
    const req = csr('der', P256, '/CN=Alice/emailAddress=ALICE@Example.TEST');
    const der = openssl(['req', '-in', t.put('d.csr', req), '-outform', 'DER']);
    const leaf = await issueFromCsr(ca, new Uint8Array(der), { email: EMAIL, validityDays: 30 });
    expect(verifyLeaf(t, ca.certificatePem, leaf.certificatePem, ['-purpose', 'smimesign']).status).toBe(0);
  });

  it.each([
    ['subject emailAddress', `/CN=Alice/emailAddress=mallory@example.test`, []],
    ['SAN rfc822Name', '/CN=Alice', ['subjectAltName=email:mallory@example.test']],
    ['SAN with two addresses', '/CN=Alice', [`subjectAltName=email:${EMAIL},email:boss@example.test`]],
    ['CN that is an address', '/CN=boss@example.test', []],
    ['SmtpUTF8Mailbox', '/CN=Alice', ['subjectAltName=otherName:1.3.6.1.5.5.7.8.9;UTF8:böss@example.test']],
  ])('refuses a CSR naming another address (%s)', async (_n, subj, ext) => {
    const req = csr('other', P256, subj, ext);
    await expect(issueFromCsr(ca, req, { email: EMAIL, validityDays: 30 })).rejects.toThrow(/another address/);
  });

  it('refuses a CSR whose signature is broken', async () => {
    const req = csr('broken', RSA, `/CN=${EMAIL}`);
    const der = Buffer.from(openssl(['req', '-in', t.put('b.csr', req), '-outform', 'DER']));
    der[der.length - 20]! ^= 0x01; // inside the signature BIT STRING, which ends the structure
    await expect(issueFromCsr(ca, der, { email: EMAIL, validityDays: 30 })).rejects.toThrow(/signature does not verify/);
    const tampered = Buffer.from(openssl(['req', '-in', t.path('b.csr'), '-outform', 'DER']));
    const at = tampered.indexOf(Buffer.from('example.test'));
    tampered[at]! ^= 0x20; // the signed subject changed
    await expect(issueFromCsr(ca, tampered, { email: EMAIL, validityDays: 30 })).rejects.toThrow(/signature does not verify/);
  });

  it.each([
    ['RSA 1024', ['rsa:1024'], /RSA key of 1024 bits refused/],
    ['EC P-521', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-521'], /P-256 or P-384/],
    ['Ed25519', ['ed25519'], /RSA or EC/],
    ['RSA with e = 3', ['rsa:2048', '-pkeyopt', 'rsa_keygen_pubexp:3'], /public exponent 3 refused/],
  ])('refuses a %s key', async (_n, keyArgs, why) => {
    const req = csr('weak', keyArgs, `/CN=${EMAIL}`);
    await expect(issueFromCsr(ca, req, { email: EMAIL, validityDays: 30 })).rejects.toThrow(why);
  });

  it('refuses a SHA-1 signed CSR, bad addresses and out-of-range validity', async () => {
    const key = t.path('sha1.key');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    const sha1 = openssl(['req', '-new', '-key', key, '-subj', '/CN=x', '-sha1']).toString();
    await expect(issueFromCsr(ca, sha1, { email: EMAIL, validityDays: 30 })).rejects.toThrow(/not accepted/);
    const ok = csr('fine', P256, '/CN=x');
    await expect(issueFromCsr(ca, ok, { email: 'no-at-sign', validityDays: 30 })).rejects.toThrow(CaError);
    await expect(issueFromCsr(ca, ok, { email: 'a@b.test\r\nX: y', validityDays: 30 })).rejects.toThrow(CaError);
    await expect(issueFromCsr(ca, ok, { email: EMAIL, validityDays: 826 })).rejects.toThrow(/validityDays/);
    await expect(issueFromCsr(ca, 'not a csr', { email: EMAIL, validityDays: 30 })).rejects.toThrow(/no PEM/);
  });

  it('fast-check: random bytes as a CSR are refused with a CaError, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
        await expect(issueFromCsr(ca, bytes, { email: EMAIL, validityDays: 30 })).rejects.toBeInstanceOf(CaError);
      }),
      { numRuns: 300 },
    );
  });

  it('fast-check: random text as a CSR is refused with a CaError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.base64String().map((b) => `-----BEGIN CERTIFICATE REQUEST-----\n${b}\n-----END CERTIFICATE REQUEST-----\n`)), async (text) => {
        await expect(issueFromCsr(ca, text, { email: EMAIL, validityDays: 30 })).rejects.toBeInstanceOf(CaError);
      }),
      { numRuns: 200 },
    );
  });

  it('fast-check: a real CSR with bytes changed is refused with a CaError or still parses', async () => {
    const der = new Uint8Array(openssl(['req', '-in', t.put('m.csr', csr('mut', P256, `/CN=${EMAIL}`)), '-outform', 'DER']));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), async (flips) => {
        const m = der.slice();
        for (const [i, x] of flips) m[i % m.length]! ^= x;
        try {
          parseCsr(m);
        } catch (err) {
          expect(err).toBeInstanceOf(CaError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('issueWithKey', () => {
  it.each(['rsa-2048', 'p-256', 'p-384'] as const)('%s: key and certificate belong together; OpenSSL accepts it', async (keyAlgorithm) => {
    const leaf = await issueWithKey(ca, { email: EMAIL, keyAlgorithm, validityDays: 90 });
    expect(new X509Certificate(leaf.certificate).checkPrivateKey(leaf.privateKey)).toBe(true);
    expect(verifyLeaf(t, ca.certificatePem, leaf.certificatePem, ['-purpose', 'smimesign', '-x509_strict']).status).toBe(0);
    if (keyAlgorithm.startsWith('rsa')) expect(verifyLeaf(t, ca.certificatePem, leaf.certificatePem, ['-purpose', 'smimeencrypt']).status).toBe(0);
  });

  it('gives each certificate a fresh 16-byte serial, or the one asked for', async () => {
    const a = await issueWithKey(ca, { email: EMAIL, keyAlgorithm: 'p-256', validityDays: 1 });
    const b = await issueWithKey(ca, { email: EMAIL, keyAlgorithm: 'p-256', validityDays: 1 });
    expect(a.serial).not.toBe(b.serial);
    expect(a.serial).toHaveLength(32);
    const c = await issueWithKey(ca, { email: EMAIL, keyAlgorithm: 'p-256', validityDays: 1, serial: 0x1234n });
    expect(c.serial).toBe('1234');
    expect(new X509Certificate(c.certificate).serialNumber).toBe('1234');
    await expect(issueWithKey(ca, { email: EMAIL, keyAlgorithm: 'p-256', validityDays: 1, serial: 0n })).rejects.toThrow(/positive/);
  });

  it('does not outlive the CA', async () => {
    const short = await createCa({ subject: 'short CA', keyAlgorithm: 'p-256', validityDays: 10 });
    const leaf = await issueWithKey(short, { email: EMAIL, keyAlgorithm: 'p-256', validityDays: 365 });
    expect(new X509Certificate(leaf.certificate).validTo).toBe(new X509Certificate(short.certificate).validTo);
    await expect(issueWithKey(short, { email: EMAIL, keyAlgorithm: 'p-256', validityDays: 1, now: new Date(Date.now() + 20 * 86_400_000) })).rejects.toThrow(/expired/);
  });
});

describe('renew', () => {
  it('keeps key, subject and address; new serial and dates; OpenSSL accepts it', async () => {
    const old = await issueWithKey(ca, { email: EMAIL, keyAlgorithm: 'rsa-2048', validityDays: 30, commonName: 'Alice', crlUrl: 'http://ca.example.test/c.crl' });
    const later = new Date(Date.now() + 20 * 86_400_000);
    const fresh = await renew(ca, old.certificatePem, { validityDays: 365, now: later });
    const a = new X509Certificate(old.certificate);
    const b = new X509Certificate(fresh.certificate);
    expect(b.publicKey.equals(a.publicKey)).toBe(true);
    expect(b.subject).toBe(a.subject);
    expect(b.subjectAltName).toBe(`email:${EMAIL}`);
    expect(fresh.serial).not.toBe(old.serial);
    expect(new Date(b.validTo).getTime()).toBeGreaterThan(new Date(a.validTo).getTime());
    expect(b.checkPrivateKey(old.privateKey)).toBe(true);
    expect(text(fresh.certificatePem)).toContain('URI:http://ca.example.test/c.crl');
    expect(verifyLeaf(t, ca.certificatePem, fresh.certificatePem, ['-purpose', 'smimesign', '-attime', String(Math.floor(later.getTime() / 1000))]).status).toBe(0);
  });

  it('fast-check: random bytes as the certificate to renew are refused with a CaError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (bytes) => {
        await expect(renew(ca, bytes, { validityDays: 30 })).rejects.toBeInstanceOf(CaError);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a certificate another CA issued', async () => {
    const other = await createCa({ subject: 'postern test CA', keyAlgorithm: 'p-256', validityDays: 30 }); // same name, other key
    const foreign = await issueWithKey(other, { email: EMAIL, keyAlgorithm: 'p-256', validityDays: 30 });
    await expect(renew(ca, foreign.certificate, { validityDays: 30 })).rejects.toThrow(/not issued by this CA/);
    await expect(renew(ca, new Uint8Array([1, 2, 3]), { validityDays: 30 })).rejects.toBeInstanceOf(CaError);
  });
});

it('a leaf from another CA of the same name does not verify against this one', async () => {
  const other = await createCa({ subject: 'postern test CA', keyAlgorithm: 'p-256', validityDays: 30 });
  const leaf = await issueWithKey(other, { email: EMAIL, keyAlgorithm: 'p-256', validityDays: 30 });
  expect(verifyLeaf(t, ca.certificatePem, leaf.certificatePem).status).not.toBe(0);
});
