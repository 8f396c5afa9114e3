import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Party, type Pki, makePki, openssl } from '../../../test/support/smime-pki.js';
import { verifySignedData } from './verify.js';

// OpenSSL signs, postern verifies: the verdicts as data.
let pki: Pki;
beforeAll(() => {
  pki = makePki();
});
afterAll(() => pki.cleanup());

const CONTENT = Buffer.from('Content-Type: text/plain\r\n\r\nMeeting moved to 3pm.\r\n');

function opensslSign(p: Party, opts: { detached: boolean; chain?: boolean; extra?: string[] }): Uint8Array {
  const data = join(pki.dir, 'in.bin');
  writeFileSync(data, CONTENT);
  const args = ['cms', '-sign', '-binary', '-in', data, '-signer', p.certFile, '-inkey', p.keyFile, '-outform', 'DER', ...(opts.chain === false ? [] : ['-certfile', pki.interFile]), ...(opts.detached ? [] : ['-nodetach']), ...(opts.extra ?? [])];
  return new Uint8Array(openssl(args));
}

describe.each([
  ['RSA', () => pki.rsa],
  ['P-256', () => pki.p256],
  ['P-384', () => pki.p384],
])('openssl cms -sign with an %s key', (_n, party: () => Party) => {
  it('detached: valid, and the signer is named', () => {
    const p = party();
    const v = verifySignedData(opensslSign(p, { detached: true }), { content: CONTENT, anchors: [pki.rootPem] });
    expect(v.status).toBe('valid');
    expect(v.signer).toMatchObject({ email: p.email, subject: expect.stringContaining(`CN=${p.name} tester`) });
    expect(v.signer?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(v.signingTime).toBeInstanceOf(Date);
  });

  it('opaque: valid, content returned', () => {
    const v = verifySignedData(opensslSign(party(), { detached: false }), { anchors: [pki.rootPem] });
    expect(v.status).toBe('valid');
    expect(Buffer.from(v.content!).equals(CONTENT)).toBe(true);
  });

  it('with a wrong anchor: untrusted, but the signer is still named', () => {
    const v = verifySignedData(opensslSign(party(), { detached: true }), { content: CONTENT, anchors: [pki.otherRootPem] });
    expect(v.status).toBe('untrusted');
    expect(v.reason).toMatch(/no path to a trust anchor/);
    expect(v.signer?.email).toBe(party().email);
  });
});

describe('openssl cms -sign variants', () => {
  it('signer named by subjectKeyIdentifier (-keyid): valid', () => {
    const v = verifySignedData(opensslSign(pki.p256, { detached: true, extra: ['-keyid'] }), { content: CONTENT, anchors: [pki.rootPem] });
    expect(v.status).toBe('valid');
  });

  it('RSA-PSS (-keyopt rsa_padding_mode:pss): valid; SHA-512 (-md sha512): valid', () => {
    const pss = opensslSign(pki.rsa, { detached: true, extra: ['-keyopt', 'rsa_padding_mode:pss'] });
    expect(Buffer.from(pss).includes(Buffer.from('06092a864886f70d01010a', 'hex'))).toBe(true); // id-RSASSA-PSS
    expect(verifySignedData(pss, { content: CONTENT, anchors: [pki.rootPem] }).status).toBe('valid');
    expect(verifySignedData(opensslSign(pki.p256, { detached: true, extra: ['-md', 'sha512'] }), { content: CONTENT, anchors: [pki.rootPem] }).status).toBe('valid');
  });

  it('two signers (RSA and P-256): valid when either chains, and the verdict names the one that did', () => {
    const data = join(pki.dir, 'in.bin');
    writeFileSync(data, CONTENT);
    const der = openssl(['cms', '-sign', '-binary', '-in', data, '-outform', 'DER', '-signer', pki.rsa.certFile, '-inkey', pki.rsa.keyFile, '-signer', pki.p256.certFile, '-inkey', pki.p256.keyFile, '-certfile', pki.interFile]);
    expect(verifySignedData(der, { content: CONTENT, anchors: [pki.rootPem] }).status).toBe('valid');
    expect(verifySignedData(der, { content: CONTENT, anchors: [pki.p256.certPem] }).signer?.email).toBe(pki.p256.email);
  });
});

describe('chain checks', () => {
  it('is untrusted when the intermediate is missing, valid when the caller supplies it', () => {
    const der = opensslSign(pki.rsa, { detached: true, chain: false });
    expect(verifySignedData(der, { content: CONTENT, anchors: [pki.rootPem] }).status).toBe('untrusted');
    expect(verifySignedData(der, { content: CONTENT, anchors: [pki.rootPem], intermediates: [pki.interPem] }).status).toBe('valid');
  });

  it('is untrusted after the certificate expired and before it was valid', () => {
    const der = opensslSign(pki.rsa, { detached: true });
    const later = verifySignedData(der, { content: CONTENT, anchors: [pki.rootPem], at: new Date(Date.now() + 3 * 365 * 86_400_000) });
    expect(later.status).toBe('untrusted');
    expect(later.reason).toMatch(/not valid at/);
    expect(verifySignedData(der, { content: CONTENT, anchors: [pki.rootPem], at: new Date('2000-01-01') }).status).toBe('untrusted');
  });

  it('accepts the leaf itself as an anchor (pinned correspondent)', () => {
    const der = opensslSign(pki.p256, { detached: true, chain: false });
    expect(verifySignedData(der, { content: CONTENT, anchors: [pki.p256.certPem] }).status).toBe('valid');
  });

  it('refuses a CA-less issuer: a leaf cannot issue another leaf', () => {
    // p256's certificate as an "intermediate" for nothing: a leaf issued by the RSA leaf.
    const dir = pki.dir;
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'sub.key')]);
    openssl(['req', '-new', '-key', join(dir, 'sub.key'), '-subj', '/CN=sub', '-out', join(dir, 'sub.csr')]);
    writeFileSync(join(dir, 'sub.ext'), 'keyUsage=digitalSignature\nextendedKeyUsage=emailProtection\n');
    openssl(['x509', '-req', '-in', join(dir, 'sub.csr'), '-CA', pki.rsa.certFile, '-CAkey', pki.rsa.keyFile, '-set_serial', '5', '-days', '30', '-extfile', join(dir, 'sub.ext'), '-out', join(dir, 'sub.crt')]);
    writeFileSync(join(dir, 'in.bin'), CONTENT);
    const der = openssl(['cms', '-sign', '-binary', '-in', join(dir, 'in.bin'), '-signer', join(dir, 'sub.crt'), '-inkey', join(dir, 'sub.key'), '-certfile', pki.rsa.certFile, '-certfile', pki.interFile, '-outform', 'DER']);
    const v = verifySignedData(der, { content: CONTENT, anchors: [pki.rootPem] });
    // OpenSSL's issuer check (behind X509Certificate.checkIssued) already rejects an issuer whose key usage lacks keyCertSign.
    expect(v.status).toBe('untrusted');
    expect(v.reason).toMatch(/not a CA|may not sign certificates|no path/);
    expect(verifySignedData(der, { content: CONTENT, anchors: [pki.rsa.certPem] }).status).toBe('untrusted');
  });

  it('refuses a signer certificate without emailProtection in its EKU', () => {
    const dir = pki.dir;
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'tls.key')]);
    openssl(['req', '-new', '-key', join(dir, 'tls.key'), '-subj', '/CN=tls only', '-out', join(dir, 'tls.csr')]);
    writeFileSync(join(dir, 'tls.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
    openssl(['x509', '-req', '-in', join(dir, 'tls.csr'), '-CA', pki.interFile, '-CAkey', join(dir, 'inter.key'), '-set_serial', '6', '-days', '30', '-extfile', join(dir, 'tls.ext'), '-out', join(dir, 'tls.crt')]);
    writeFileSync(join(dir, 'in.bin'), CONTENT);
    const der = openssl(['cms', '-sign', '-binary', '-in', join(dir, 'in.bin'), '-signer', join(dir, 'tls.crt'), '-inkey', join(dir, 'tls.key'), '-certfile', pki.interFile, '-outform', 'DER']);
    const v = verifySignedData(der, { content: CONTENT, anchors: [pki.rootPem] });
    expect(v.status).toBe('untrusted');
    expect(v.reason).toMatch(/emailProtection/);
  });
});

describe('bad input', () => {
  it('a detached signature without content is malformed', () => {
    expect(verifySignedData(opensslSign(pki.rsa, { detached: true }), { anchors: [pki.rootPem] }).status).toBe('malformed');
  });

  it('random bytes never throw and are malformed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        expect(verifySignedData(bytes, { anchors: [pki.rootPem], content: CONTENT }).status).toBe('malformed');
      }),
      { numRuns: 300 },
    );
  });

  it('a signature with any byte changed never throws and is never valid', () => {
    const der = opensslSign(pki.p256, { detached: false });
    fc.assert(
      fc.property(fc.nat({ max: der.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const copy = der.slice();
        copy[at]! ^= x;
        const v = verifySignedData(copy, { anchors: [pki.rootPem] });
        // A flip inside an unsigned part (e.g. a carried certificate we do not need) may still verify.
        if (v.status === 'valid') expect(Buffer.from(v.content!).equals(CONTENT)).toBe(true);
        else expect(['invalid', 'untrusted', 'tampered', 'malformed']).toContain(v.status);
      }),
      { numRuns: 200 },
    );
  });
});

it('finds the path among many anchors (a system bundle) without running out of steps', () => {
  const der = opensslSign(pki.rsa, { detached: true });
  const many = Array.from({ length: 300 }, () => pki.otherRootPem);
  expect(verifySignedData(der, { content: CONTENT, anchors: [...many, pki.rootPem] }).status).toBe('valid');
});
