import { X509Certificate, createHmac, createPrivateKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import { children, octetValue, parseDer } from '../smime/asn1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TempDir, openssl, opensslStatus, run, tempDir } from '../../../test/crypto/ca/support.js';
import { CaError, type CreatedCa, createCa, issueWithKey, toPkcs12 } from './index.js';
import { pkcs12Kdf } from './pkcs12.js';

let t: TempDir;
let ca: CreatedCa;
beforeAll(async () => {
  t = tempDir();
  ca = await createCa({ subject: 'postern test CA', keyAlgorithm: 'p-384', validityDays: 365 });
});
afterAll(() => t.cleanup());

const PASSWORD = 'correct horse battery staple';

describe.each(['rsa-2048', 'p-256'] as const)('toPkcs12 with a %s key', (keyAlgorithm) => {
  it('OpenSSL 3 reads it without -legacy: PBES2/PBKDF2-SHA256/AES-256-CBC, SHA-256 MAC; the key matches the certificate', async () => {
    const leaf = await issueWithKey(ca, { email: 'bob@example.test', keyAlgorithm, validityDays: 30 });
    const p12 = toPkcs12({ certificate: leaf.certificatePem, privateKey: leaf.privateKey, chain: [ca.certificatePem], password: PASSWORD, friendlyName: 'Bob (postern)', iterations: 4096 });
    const file = t.put(`${keyAlgorithm}.p12`, p12);
    const r = opensslStatus(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-nodes']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pem = r.stdout.toString();
    const key = createPrivateKey(pem);
    const certs = [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]));
    expect(certs).toHaveLength(2);
    expect(certs[0]!.checkPrivateKey(key)).toBe(true);
    expect(certs[0]!.raw.equals(Buffer.from(leaf.certificate))).toBe(true);
    expect(certs[1]!.raw.equals(Buffer.from(ca.certificate))).toBe(true);
    expect(pem).toContain('friendlyName: Bob (postern)');
    const info = run(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-info', '-noout']).stderr;
    expect(info).toContain('MAC: sha256, Iteration 4096');
    expect(info).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 4096, PRF hmacWithSHA256');
    expect(info).toContain('PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 4096, PRF hmacWithSHA256');
  });
});

it('the default profile (100 000 iterations) is read too, and a wrong password is refused', async () => {
  const leaf = await issueWithKey(ca, { email: 'carol@example.test', keyAlgorithm: 'p-256', validityDays: 30 });
  const file = t.put('default.p12', toPkcs12({ certificate: leaf.certificate, privateKey: leaf.privateKey, password: 'pässwörd' }));
  const ok = opensslStatus(['pkcs12', '-in', file, '-passin', 'pass:pässwörd', '-nodes']);
  expect(ok.status).toBe(0);
  expect(new X509Certificate(ok.stdout.toString()).checkPrivateKey(createPrivateKey(ok.stdout.toString()))).toBe(true);
  const bad = opensslStatus(['pkcs12', '-in', file, '-passin', 'pass:wrong', '-nodes']);
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toMatch(/mac verify (error|failure)/i);
});

it('refuses a key that is not the certificate\'s, an empty password and silly iteration counts', async () => {
  const a = await issueWithKey(ca, { email: 'a@example.test', keyAlgorithm: 'p-256', validityDays: 30 });
  const b = await issueWithKey(ca, { email: 'b@example.test', keyAlgorithm: 'p-256', validityDays: 30 });
  expect(() => toPkcs12({ certificate: a.certificate, privateKey: b.privateKey, password: 'x' })).toThrow(/does not belong/);
  expect(() => toPkcs12({ certificate: a.certificate, privateKey: a.privateKey, password: '' })).toThrow(CaError);
  expect(() => toPkcs12({ certificate: a.certificate, privateKey: a.privateKey, password: 'x', iterations: 1 })).toThrow(/iterations/);
  expect(() => toPkcs12({ certificate: 'junk', privateKey: a.privateKey, password: 'x' })).toThrow(CaError);
});

it('the PKCS#12 KDF matches OpenSSL\'s (a file OpenSSL wrote, MAC checked with our key)', () => {
  // OpenSSL writes the file; we recompute its MAC key with our KDF and check the MAC.
  const key = t.put('k.pem', openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']));
  const crt = t.put('c.pem', openssl(['req', '-new', '-x509', '-key', key, '-subj', '/CN=kdf', '-days', '1']));
  const der = openssl(['pkcs12', '-export', '-inkey', key, '-in', crt, '-passout', 'pass:kdf-test', '-macalg', 'sha256', '-iter', '2048']);
  const [, authSafe, macData] = children(parseDer(der), 'PFX');
  const content = octetValue(children(children(authSafe, 'ContentInfo')[1], '[0]')[0]);
  const [digestInfo, saltNode, iterNode] = children(macData, 'MacData');
  const mac = octetValue(children(digestInfo, 'DigestInfo')[1]);
  const salt = octetValue(saltNode);
  const iter = (iterNode as asn1js.Integer).valueBlock.valueDec;
  expect(iter).toBe(2048);
  const macKey = pkcs12Kdf('kdf-test', salt!, 3, iter, 32);
  expect(createHmac('sha256', macKey).update(content).digest().equals(Buffer.from(mac))).toBe(true);
});
