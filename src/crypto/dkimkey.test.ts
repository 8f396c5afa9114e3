import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dkimDnsRecord, dkimRecordValueFromPrivateKey, generateDkimKey } from './dkimkey.js';

const DATA = Buffer.from('DKIM-Signature header and body hash');

describe('generateDkimKey', () => {
  it('makes a 2048-bit RSA key whose p= is the SubjectPublicKeyInfo', async () => {
    const k = await generateDkimKey();
    expect(k.algorithm).toBe('rsa');
    expect(k.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(k.dnsRecordValue).toBe(`v=DKIM1; k=rsa; p=${k.publicKeyDer}`);
    const priv = createPrivateKey(k.privateKeyPem);
    expect(priv.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const pub = createPublicKey({ key: Buffer.from(k.publicKeyDer, 'base64'), format: 'der', type: 'spki' });
    // The published key verifies what the private key signs (rsa-sha256).
    expect(verify('sha256', DATA, pub, sign('sha256', DATA, priv))).toBe(true);
    expect(verify('sha256', Buffer.from('other data'), pub, sign('sha256', DATA, priv))).toBe(false);
  });

  it('makes an Ed25519 key whose p= is the raw 32-byte key (RFC 8463)', async () => {
    const k = await generateDkimKey({ algorithm: 'ed25519' });
    expect(k.dnsRecordValue).toBe(`v=DKIM1; k=ed25519; p=${k.publicKeyDer}`);
    const raw = Buffer.from(k.publicKeyDer, 'base64');
    expect(raw).toHaveLength(32);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
    const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const priv = createPrivateKey(k.privateKeyPem);
    expect(verify(null, DATA, pub, sign(null, DATA, priv))).toBe(true);
  });

  it('gives a fresh key every time', async () => {
    const [a, b] = await Promise.all([generateDkimKey({ algorithm: 'ed25519' }), generateDkimKey({ algorithm: 'ed25519' })]);
    expect(a.publicKeyDer).not.toBe(b.publicKeyDer);
  });

  it('refuses weak or unknown parameters', async () => {
    await expect(generateDkimKey({ bits: 1024 as 2048 })).rejects.toThrow(/2048/);
    await expect(generateDkimKey({ algorithm: 'dsa' as 'rsa' })).rejects.toThrow(RangeError);
  });
});

describe('dkimRecordValueFromPrivateKey', () => {
  it('re-derives the published value from the key file', async () => {
    for (const algorithm of ['rsa', 'ed25519'] as const) {
      const k = await generateDkimKey({ algorithm });
      expect(dkimRecordValueFromPrivateKey(k.privateKeyPem)).toBe(k.dnsRecordValue);
    }
  });

  it('refuses a key type DKIM does not use', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(() => dkimRecordValueFromPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toThrow(/RSA or Ed25519/);
  });
});

describe('dkimDnsRecord', () => {
  it('names the record <selector>._domainkey.<domain>', () => {
    expect(dkimDnsRecord('Example.ORG', 'postern', 'v=DKIM1; k=rsa; p=AAAA')).toEqual({
      name: 'postern._domainkey.example.org',
      type: 'TXT',
      value: 'v=DKIM1; k=rsa; p=AAAA',
    });
  });

  it('refuses names that are not DNS names', () => {
    expect(() => dkimDnsRecord('example.org', 'bad selector', 'v=DKIM1')).toThrow(RangeError);
    expect(() => dkimDnsRecord('example.org\nevil', 'postern', 'v=DKIM1')).toThrow(RangeError);
  });
});
