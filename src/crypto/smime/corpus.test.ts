import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openssl, opensslStatus } from '../../../test/support/smime-pki.js';
import { decryptData } from './decrypt.js';
import { encryptData } from './envelope.js';
import { signEntity, verifySmime } from './mime.js';

// Real S/MIME material from other projects (test/fixtures/smime/README.md).
const F = (name: string): string => join('test/fixtures/smime', name);
const read = (name: string): Buffer => readFileSync(F(name));
const pemDer = (name: string): Uint8Array => new Uint8Array(Buffer.from(read(name).toString('latin1').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
const derToPem = (der: Uint8Array): string => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`;
const STARTCOM = read('StartComCertificationAuthority.crt').toString('latin1');

describe('signed messages', () => {
  it('Thunderbird 24 (SHA-1, StartCom): untrusted today because the certificate expired in 2014; valid at its signing time', () => {
    const msg = read('mimekit-thunderbird-signed.eml');
    const now = verifySmime(msg, { anchors: [STARTCOM] });
    expect(now.status).toBe('untrusted');
    expect(now.reason).toMatch(/not valid at/);
    expect(now.signer?.email).toBe('fejj@gnome.org');
    expect(now.signingTime?.toISOString()).toBe('2013-11-02T20:28:04.000Z');
    // The message carries the StartCom intermediate; the signature and chain are good when the clock is turned back.
    expect(verifySmime(msg, { anchors: [STARTCOM], at: now.signingTime! }).status).toBe('valid');
    // StartCom is distrusted: without it as an anchor the chain reaches nothing.
    expect(verifySmime(msg, { anchors: [], at: now.signingTime! }).status).toBe('untrusted');
  });

  it('Thunderbird 24: one changed byte in a 200 KB attachment is tampered', () => {
    const msg = Buffer.from(read('mimekit-thunderbird-signed.eml'));
    const at = msg.length >> 1; // inside the base64 of an attachment
    msg[at] = msg[at] === 0x41 ? 0x42 : 0x41;
    expect(verifySmime(msg, { anchors: [STARTCOM], at: new Date('2013-11-02T20:28:04Z') }).status).toBe('tampered');
  });

  it('flanker/M2Crypto (x-pkcs7-signature, SHA-1, mixed CRLF/LF, self-signed 2009-2010): untrusted, valid when pinned at signing time', () => {
    const msg = read('flanker-m2crypto-signed.eml');
    const now = verifySmime(msg, { anchors: [] });
    expect(now.status).toBe('untrusted');
    expect(now.signer?.email).toBe('zedshaw@zedshaw.com');
    // Its own (self-signed) certificate as the anchor, at the time it signed: the signature over the canonical form holds.
    const pinned = verifySmime(msg, { anchors: [derToPem(now.certificates![0]!)], at: now.signingTime! });
    expect(pinned.status).toBe('valid');
    expect(verifySmime(msg, { anchors: [derToPem(now.certificates![0]!)] }).reason).toMatch(/not valid at/);
  });

  it('OpenSSL regression PoC (empty digestAlgorithms SET): malformed, no crash', () => {
    const v = verifySmime(read('openssl-pkcs7-empty-digest-set.eml'), { anchors: [] });
    expect(v).toMatchObject({ status: 'malformed', reason: expect.stringMatching(/digestAlgorithms/) });
  });

  it('pyca signed-opaque (signed-data without encapsulated content): malformed, nothing to verify', () => {
    const v = verifySmime(read('signed-opaque.msg'), { anchors: [] });
    expect(v).toMatchObject({ status: 'malformed', reason: expect.stringMatching(/no content/) });
  });
});

describe('pyca enveloped vectors', () => {
  const recipient = { certificate: read('custom-ca-rsa_ca.pem').toString('latin1'), key: read('custom-ca-rsa_key.pem').toString('latin1') };

  it('RSA-OAEP + AES-128-CBC decrypts to "Hello, world!"', () => {
    const r = decryptData(pemDer('enveloped-rsa-oaep.pem'), recipient);
    expect(r.ok && Buffer.from(r.content).toString()).toBe('Hello, world!');
    expect(r.ok && r.cipher).toBe('aes-128-cbc');
  });

  it('RSA PKCS#1 v1.5: refused here, while openssl decrypts it', () => {
    expect(decryptData(pemDer('enveloped-aes-256-cbc.pem'), recipient)).toEqual({ ok: false, reason: expect.stringMatching(/PKCS#1 v1.5/) });
    const r = opensslStatus(['cms', '-decrypt', '-inform', 'PEM', '-in', F('enveloped-aes-256-cbc.pem'), '-inkey', F('custom-ca-rsa_key.pem'), '-recip', F('custom-ca-rsa_ca.pem'), '-binary']);
    expect(r.stdout.toString()).toBe('Hello world!\r\n');
  });

  it('addressed to other recipients (RFC 9216 PKI, 3DES): not for this certificate', () => {
    expect(decryptData(pemDer('enveloped.pem'), recipient)).toEqual({ ok: false, reason: expect.stringMatching(/not encrypted to this certificate/) });
  });
});

describe('MimeKit test PKI (a third-party four-level chain)', () => {
  // The PKCS#12 files hold leaf, two intermediates and root (leaf first); RC2-encrypted, hence -legacy.
  const chainOf = (pfx: string): string[] =>
    openssl(['pkcs12', '-legacy', '-in', F(pfx), '-passin', 'pass:no.secret', '-nokeys']).toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!;
  const at = new Date('2030-01-01T00:00:00Z');

  const rootOf = (chain: string[]): string => chain.find((c) => new X509Certificate(c).subject === new X509Certificate(c).issuer)!;
  const keyOf = (pfx: string): string => openssl(['pkcs12', '-legacy', '-in', F(pfx), '-passin', 'pass:no.secret', '-nocerts', '-nodes']).toString('latin1');
  const opensslVerify = (signed: Uint8Array, root: string) => {
    const rootFile = join(tmpdir(), `mimekit-root-${process.pid}.pem`);
    writeFileSync(rootFile, root);
    try {
      return opensslStatus(['cms', '-verify', '-CAfile', rootFile, '-purpose', 'smimesign'], signed);
    } finally {
      rmSync(rootFile, { force: true });
    }
  };
  const ENTITY = Buffer.from('Content-Type: text/plain\r\n\r\nhi through four levels\r\n');

  it('postern signs with the RSA leaf and both intermediates; openssl and postern verify to the MimeKit root', () => {
    const [leaf, ...rest] = chainOf('rsa-smime.pfx');
    const root = rootOf(rest);
    const intermediates = rest.filter((c) => c !== root);
    expect(intermediates).toHaveLength(2);
    const signed = signEntity(ENTITY, { certificate: leaf!, key: keyOf('rsa-smime.pfx'), chain: intermediates });
    expect(verifySmime(signed, { anchors: [root], at })).toMatchObject({ status: 'valid', signer: { email: 'rsa@mimekit.net' } });
    expect(verifySmime(signed, { anchors: [root], at: new Date('2040-01-01') }).status).toBe('untrusted');
    expect(opensslVerify(signed, root).status).toBe(0);
  });

  it('the P-384 leaf has explicit curve parameters: openssl refuses the chain and postern says untrusted', () => {
    const [leaf, ...rest] = chainOf('ec-smime.pfx');
    const root = rootOf(rest);
    const signed = signEntity(ENTITY, { certificate: leaf!, key: keyOf('ec-smime.pfx'), chain: rest.filter((c) => c !== root) });
    const r = opensslVerify(signed, root);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/explicit ECC parameters/);
    const v = verifySmime(signed, { anchors: [root], at });
    expect(v).toMatchObject({ status: 'untrusted', reason: expect.stringMatching(/explicit curve parameters/), signer: { email: 'ec@mimekit.net' } });
  });

  it('encrypts to the RSA leaf; openssl decrypts with the MimeKit key, and so does postern', () => {
    const [leaf] = chainOf('rsa-smime.pfx');
    const der = encryptData(Buffer.from('secret'), { recipients: [{ certificate: leaf! }] });
    const file = join(tmpdir(), `mimekit-enc-${process.pid}.der`);
    writeFileSync(file, der);
    try {
      const r = opensslStatus(['cms', '-decrypt', '-inform', 'DER', '-in', file, '-inkey', F('rsa-smime.key'), '-binary']);
      expect(r.stdout.toString()).toBe('secret');
    } finally {
      rmSync(file, { force: true });
    }
    const ours = decryptData(der, { certificate: leaf!, key: read('rsa-smime.key').toString('latin1') });
    expect(ours.ok && Buffer.from(ours.content).toString()).toBe('secret');
  });
});
