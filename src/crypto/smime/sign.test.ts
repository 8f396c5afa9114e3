import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Party, type Pki, makePki, opensslStatus } from '../../../test/support/smime-pki.js';
import { children, parseDer, rawOf } from './asn1.js';
import { readContentInfo, readSignedData } from './cms.js';
import { signData } from './sign.js';
import { verifySignedData } from './verify.js';

// postern signs, OpenSSL (an independent implementation) verifies.
let pki: Pki;
beforeAll(() => {
  pki = makePki();
});
afterAll(() => pki.cleanup());

const CONTENT = Buffer.from('Content-Type: text/plain; charset=utf-8\r\n\r\nPay invoice 4711 by Friday.\r\n');

function opensslVerify(der: Uint8Array, content: Uint8Array | undefined, anchor = pki.rootFile) {
  const sig = join(pki.dir, 'sig.der');
  const data = join(pki.dir, 'data.bin');
  writeFileSync(sig, der);
  if (content) writeFileSync(data, content);
  return opensslStatus(['cms', '-verify', '-inform', 'DER', '-in', sig, '-CAfile', anchor, '-purpose', 'smimesign', '-binary', ...(content ? ['-content', data] : [])]);
}

describe.each([
  ['RSA PKCS#1 v1.5', () => pki.rsa, {}],
  ['RSA-PSS', () => pki.rsa, { pss: true }],
  ['ECDSA P-256', () => pki.p256, {}],
  ['ECDSA P-384', () => pki.p384, {}],
  ['RSA, signer named by subjectKeyIdentifier', () => pki.rsa, { signerId: 'subjectKeyIdentifier' as const }],
])('%s', (_name, party: () => Party, extra) => {
  it('detached: OpenSSL accepts it and our verifier agrees', () => {
    const p = party();
    const der = signData(CONTENT, { certificate: p.certPem, key: p.keyPem, chain: [pki.interPem], ...extra });
    const r = opensslVerify(der, CONTENT);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.equals(CONTENT)).toBe(true);
    const v = verifySignedData(der, { content: CONTENT, anchors: [pki.rootPem] });
    expect(v.status).toBe('valid');
    expect(v.signer?.email).toBe(p.email);
  });

  it('opaque: OpenSSL accepts it and recovers the content', () => {
    const p = party();
    const der = signData(CONTENT, { certificate: p.certPem, key: p.keyPem, chain: [pki.interPem], detached: false, ...extra });
    const r = opensslVerify(der, undefined);
    expect(r.status).toBe(0);
    expect(r.stdout.equals(CONTENT)).toBe(true);
    const v = verifySignedData(der, { anchors: [pki.rootPem] });
    expect(v.status).toBe('valid');
    expect(Buffer.from(v.content!).equals(CONTENT)).toBe(true);
  });
});

describe('one changed byte', () => {
  it('in detached content: OpenSSL refuses, postern says tampered', () => {
    const der = signData(CONTENT, { certificate: pki.rsa.certPem, key: pki.rsa.keyPem, chain: [pki.interPem] });
    const changed = Buffer.from(CONTENT);
    changed[changed.length - 5]! ^= 0x01;
    expect(opensslVerify(der, changed).status).not.toBe(0);
    const v = verifySignedData(der, { content: changed, anchors: [pki.rootPem] });
    expect(v.status).toBe('tampered');
  });

  it('in encapsulated content: OpenSSL refuses, postern says tampered', () => {
    const der = Buffer.from(signData(CONTENT, { certificate: pki.p256.certPem, key: pki.p256.keyPem, chain: [pki.interPem], detached: false }));
    const at = der.indexOf(Buffer.from('invoice'));
    der[at]! ^= 0x20;
    expect(opensslVerify(der, undefined).status).not.toBe(0);
    expect(verifySignedData(der, { anchors: [pki.rootPem] }).status).toBe('tampered');
  });

  it('in the signature value: OpenSSL refuses, postern says invalid', () => {
    const der = Buffer.from(signData(CONTENT, { certificate: pki.rsa.certPem, key: pki.rsa.keyPem, chain: [pki.interPem] }));
    der[der.length - 10]! ^= 0x01; // the signature OCTET STRING ends the structure
    expect(opensslVerify(der, CONTENT).status).not.toBe(0);
    expect(verifySignedData(der, { content: CONTENT, anchors: [pki.rootPem] }).status).toBe('invalid');
  });
});

it('refuses a key that does not belong to the certificate', () => {
  expect(() => signData(CONTENT, { certificate: pki.rsa.certPem, key: pki.p256.keyPem })).toThrow(/does not belong/);
});

it('uses SHA-384 by default for a P-384 key and says so in the SignedData', () => {
  const der = Buffer.from(signData(CONTENT, { certificate: pki.p384.certPem, key: pki.p384.keyPem }));
  expect(der.includes(Buffer.from('0609608648016503040202', 'hex'))).toBe(true); // id-sha384
  expect(der.includes(Buffer.from('0609608648016503040201', 'hex'))).toBe(false); // no id-sha256
});

it('writes the signed attributes in DER order (SET OF sorted by encoding), all four of them', () => {
  const der = signData(CONTENT, { certificate: pki.p256.certPem, key: pki.p256.keyPem });
  const si = readSignedData(readContentInfo(der).content).signerInfos[0]!;
  const encodings = children(parseDer(si.signedAttrsDer!), 'signedAttrs').map((n) => Buffer.from(rawOf(n)));
  expect(encodings).toHaveLength(4);
  expect(encodings.map((e) => e.toString('hex'))).toEqual([...encodings].sort(Buffer.compare).map((e) => e.toString('hex')));
  expect(si.signedAttrs!.map((a) => a.type).sort()).toEqual(['1.2.840.113549.1.9.15', '1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.5']);
});
