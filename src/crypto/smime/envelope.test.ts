import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Party, type Pki, makePki, openssl, opensslStatus } from '../../../test/support/smime-pki.js';
import { decryptData } from './decrypt.js';
import { type ContentCipher, type Recipient, encryptData } from './envelope.js';

// postern encrypts and OpenSSL decrypts, and the other way round.
let pki: Pki;
beforeAll(() => {
  pki = makePki();
});
afterAll(() => pki.cleanup());

// Binary-safe content: every byte value, bare LFs and CRs, to prove "exact bytes".
const CONTENT = Buffer.concat([Buffer.from('Content-Type: application/octet-stream\r\n\r\n'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\nend\r')]);

function opensslDecrypt(der: Uint8Array, p: Party) {
  const file = join(pki.dir, 'enc.der');
  writeFileSync(file, der);
  return opensslStatus(['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', file, '-recip', p.certFile, '-inkey', p.keyFile]);
}

const CIPHERS: ContentCipher[] = ['aes-256-gcm', 'aes-256-cbc', 'aes-128-cbc'];
const KINDS: [string, () => Party, Omit<Recipient, 'certificate'>][] = [
  ['RSA-OAEP SHA-256', () => pki.rsa, {}],
  ['RSA-OAEP SHA-1', () => pki.rsa, { rsaPadding: 'oaep-sha1' }],
  ['RSA PKCS#1 v1.5', () => pki.rsa, { rsaPadding: 'pkcs1' }],
  ['RSA-OAEP, recipient by key id', () => pki.rsa, { recipientId: 'subjectKeyIdentifier' }],
  ['ECDH P-256', () => pki.p256, {}],
  ['ECDH P-384', () => pki.p384, {}],
  ['ECDH P-256, recipient by key id', () => pki.p256, { recipientId: 'subjectKeyIdentifier' }],
];

describe.each(KINDS)('to a %s recipient', (_n, party, extra) => {
  it.each(CIPHERS)('with %s: openssl cms -decrypt recovers the exact bytes', (cipher) => {
    const p = party();
    const der = encryptData(CONTENT, { recipients: [{ certificate: p.certPem, ...extra }], cipher });
    const r = opensslDecrypt(der, p);
    expect(r.stderr).toBe('');
    expect(r.stdout.equals(CONTENT)).toBe(true);
    const ours = decryptData(der, { certificate: p.certPem, key: p.keyPem });
    if (extra.rsaPadding === 'pkcs1') {
      expect(ours).toEqual({ ok: false, reason: expect.stringMatching(/PKCS#1 v1.5/) });
    } else {
      expect(ours.ok && Buffer.from(ours.content).equals(CONTENT)).toBe(true);
      expect(ours.ok && ours.authenticated).toBe(cipher === 'aes-256-gcm');
    }
  });
});

it('encrypts to several recipients of every kind at once; each one decrypts', () => {
  const parties = [pki.rsa, pki.p256, pki.p384];
  const der = encryptData(CONTENT, { recipients: parties.map((p) => ({ certificate: p.certPem })) });
  for (const p of parties) {
    expect(opensslDecrypt(der, p).stdout.equals(CONTENT)).toBe(true);
    const ours = decryptData(der, { certificate: p.certPem, key: p.keyPem });
    expect(ours.ok && Buffer.from(ours.content).equals(CONTENT)).toBe(true);
  }
});

describe('from openssl cms -encrypt', () => {
  const cases: [string, () => Party, string[]][] = [
    ['-aes256, RSA-OAEP', () => pki.rsa, ['-aes256', '-keyopt', 'rsa_padding_mode:oaep']],
    ['-aes256, RSA-OAEP SHA-256', () => pki.rsa, ['-aes256', '-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256']],
    ['-aes-256-gcm, RSA-OAEP', () => pki.rsa, ['-aes-256-gcm', '-keyopt', 'rsa_padding_mode:oaep']],
    ['-aes256, EC P-256', () => pki.p256, ['-aes256']],
    ['-aes-256-gcm, EC P-256', () => pki.p256, ['-aes-256-gcm']],
    ['-aes-128-cbc, EC P-384', () => pki.p384, ['-aes-128-cbc']],
    ['-aes-256-gcm, EC P-384, key id', () => pki.p384, ['-aes-256-gcm', '-keyid']],
  ];
  it.each(cases)('%s: postern decrypts', (_n, party, args) => {
    const p = party();
    const input = join(pki.dir, 'plain.bin');
    writeFileSync(input, CONTENT);
    // -recip before -keyopt: the option applies to the recipient named just before it.
    const keyopts = args.filter((a, i) => a === '-keyopt' || args[i - 1] === '-keyopt');
    const rest = args.filter((a) => !keyopts.includes(a));
    const der = openssl(['cms', '-encrypt', '-binary', '-in', input, '-outform', 'DER', ...rest, '-recip', p.certFile, ...keyopts]);
    const ours = decryptData(new Uint8Array(der), { certificate: p.certPem, key: p.keyPem });
    expect(ours.ok ? Buffer.from(ours.content).equals(CONTENT) : ours.reason).toBe(true);
  });
});

describe('refusals', () => {
  it('a message for someone else: not addressed to this certificate', () => {
    const der = encryptData(CONTENT, { recipients: [{ certificate: pki.rsa.certPem }] });
    expect(decryptData(der, { certificate: pki.p256.certPem, key: pki.p256.keyPem })).toEqual({ ok: false, reason: expect.stringMatching(/not encrypted to this certificate/) });
  });

  it('AES-GCM: a changed ciphertext byte fails authentication', () => {
    const der = Buffer.from(encryptData(CONTENT, { recipients: [{ certificate: pki.p256.certPem }] }));
    der[der.length - 40]! ^= 0x01; // inside the ciphertext, before the 16-byte tag
    const r = decryptData(der, { certificate: pki.p256.certPem, key: pki.p256.keyPem });
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/authentication failed/) });
    expect(opensslDecrypt(der, pki.p256).status).not.toBe(0);
  });

  it('no recipients is an error for the caller', () => {
    expect(() => encryptData(CONTENT, { recipients: [] })).toThrow(/no recipients/);
  });

  it('random bytes and mutated messages never throw', () => {
    const der = encryptData(CONTENT, { recipients: [{ certificate: pki.p256.certPem }], cipher: 'aes-256-cbc' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (bytes) => {
        expect(decryptData(bytes, { certificate: pki.p256.certPem, key: pki.p256.keyPem }).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.nat({ max: der.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const copy = der.slice();
        copy[at]! ^= x;
        const r = decryptData(copy, { certificate: pki.p256.certPem, key: pki.p256.keyPem });
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });
});
