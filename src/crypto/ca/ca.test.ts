import { createPrivateKey, generateKeyPairSync, sign as nodeSign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type TempDir, openssl, opensslStatus, tempDir } from '../../../test/crypto/ca/support.js';
import { type Signer, CaError, createCa, ecdsaRawToDer, issueWithKey, softwareSigner } from './index.js';

const t: TempDir = tempDir();
afterAll(() => t.cleanup());

describe.each(['rsa-3072', 'p-256', 'p-384'] as const)('createCa %s', (keyAlgorithm) => {
  it('is a self-signed CA, pathlen 0, keyCertSign+cRLSign, SKI = AKI, that OpenSSL accepts', async () => {
    const ca = await createCa({ subject: { commonName: 'postern test CA', organization: 'Example Org' }, keyAlgorithm, validityDays: 3650 });
    const file = t.put(`ca-${keyAlgorithm}.pem`, ca.certificatePem);
    const text = openssl(['x509', '-in', file, '-noout', '-text']).toString();
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const ski = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(text)?.[1];
    expect(ski).toBeDefined();
    expect(/Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1]).toBe(ski);
    expect(text).toContain('Subject: O = Example Org, CN = postern test CA');
    expect(text).toContain(keyAlgorithm === 'rsa-3072' ? 'Public-Key: (3072 bit)' : keyAlgorithm === 'p-256' ? 'NIST CURVE: P-256' : 'NIST CURVE: P-384');
    expect(opensslStatus(['verify', '-x509_strict', '-CAfile', file, file]).status).toBe(0);
    expect(ca.privateKey).toBeDefined();
    const x = new X509Certificate(ca.certificate);
    expect(x.ca).toBe(true);
    expect(x.checkPrivateKey(ca.privateKey!)).toBe(true);
  });
});

describe('signers', () => {
  it('a token-like signer (raw r||s, converted) makes a CA; no private key comes back', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    let calls = 0;
    const token: Signer = {
      algorithm: 'ecdsa-sha384',
      publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }),
      sign: async (tbs) => {
        calls++;
        return ecdsaRawToDer(nodeSign('sha384', tbs, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
      },
    };
    const ca = await createCa({ subject: 'token CA', validityDays: 30, signer: token });
    expect(ca.privateKey).toBeUndefined();
    expect(calls).toBe(1);
    const leaf = await issueWithKey(ca, { email: 'a@example.test', keyAlgorithm: 'p-256', validityDays: 10 });
    expect(calls).toBe(2);
    expect(opensslStatus(['verify', '-purpose', 'smimesign', '-CAfile', t.put('tok.pem', ca.certificatePem), t.put('tokleaf.pem', leaf.certificatePem)]).status).toBe(0);
  });

  it('a signer whose signature does not verify under its public key is refused', async () => {
    const real = softwareSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const other = softwareSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const lying: Signer = { ...real, sign: other.sign };
    await expect(createCa({ subject: 'x', validityDays: 1, signer: lying })).rejects.toThrow(/does not verify/);
    const failing: Signer = { ...real, sign: () => Promise.reject(new Error('token removed')) };
    await expect(createCa({ subject: 'x', validityDays: 1, signer: failing })).rejects.toThrow(/token removed/);
  });

  it('the signer must fit keyAlgorithm and its own key', async () => {
    const p256 = softwareSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    await expect(createCa({ subject: 'x', validityDays: 1, signer: p256, keyAlgorithm: 'p-384' })).rejects.toThrow(CaError);
    await expect(createCa({ subject: 'x', validityDays: 1, signer: { ...p256, algorithm: 'ecdsa-sha384' } })).rejects.toThrow(/signs with ecdsa-sha256/);
    expect(() => softwareSigner(generateKeyPairSync('ed25519').privateKey)).toThrow(CaError);
  });

  it('a CA certificate with another signer is refused before anything is signed', async () => {
    const ca = await createCa({ subject: 'x', validityDays: 5, keyAlgorithm: 'p-256' });
    const stranger = softwareSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    await expect(issueWithKey({ certificate: ca.certificatePem, signer: stranger }, { email: 'a@example.test', keyAlgorithm: 'p-256', validityDays: 1 })).rejects.toThrow(/not the CA certificate's key/);
  });

  it('a certificate that is not a CA, or may not sign certificates, is refused as a CA', async () => {
    const key = t.put('nonca.key', openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']));
    const signer = softwareSigner(createPrivateKey(readFileSync(key)));
    const make = (ext: string[]): string => openssl(['req', '-new', '-x509', '-key', key, '-subj', '/CN=not a CA', '-days', '5', ...ext.flatMap((e) => ['-addext', e])]).toString();
    const leafOnly = make(['basicConstraints=critical,CA:FALSE']);
    const noCertSign = make(['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature']);
    await expect(issueWithKey({ certificate: leafOnly, signer }, { email: 'a@example.test', keyAlgorithm: 'p-256', validityDays: 1 })).rejects.toThrow(/not a CA/);
    await expect(issueWithKey({ certificate: noCertSign, signer }, { email: 'a@example.test', keyAlgorithm: 'p-256', validityDays: 1 })).rejects.toThrow(/keyUsage/);
    const fine = make(['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']);
    const leaf = await issueWithKey({ certificate: fine, signer }, { email: 'a@example.test', keyAlgorithm: 'p-256', validityDays: 1 });
    expect(opensslStatus(['verify', '-purpose', 'smimesign', '-CAfile', t.put('fine.pem', fine), t.put('fineleaf.pem', leaf.certificatePem)]).status).toBe(0);
  });

  it('refuses bad options', async () => {
    await expect(createCa({ subject: 'x', validityDays: 0, keyAlgorithm: 'p-256' })).rejects.toThrow(/validityDays/);
    await expect(createCa({ subject: '', validityDays: 1, keyAlgorithm: 'p-256' })).rejects.toThrow(/common name/);
    await expect(createCa({ subject: 'x', validityDays: 1 })).rejects.toThrow(/keyAlgorithm or a signer/);
    await expect(createCa({ subject: 'x', validityDays: 1, keyAlgorithm: 'rsa-1024' as never })).rejects.toThrow(/unsupported/);
  });
});
