import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { opensslStatus } from '../../../test/support/smime-pki.js';
import { decryptData } from './decrypt.js';
import { verifySmime } from './mime.js';

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
