// DKIM against an independent signer: python3-dkim signs, postern verifies.
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryResolver } from '../../../src/net/dns/memory.js';
import { verifySender, type AuthInput } from '../../../src/policy/auth/index.js';
import { message, pythonDkimAvailable, pythonDkimSign, rsaKey, type TestKey } from './fixtures.js';

const base = { sender: 'alice@example.com', helo: 'mail.example.com', ip: '192.0.2.10', authservId: 'mx.postern.example', mta: 'mx.postern.example' };

describe.runIf(pythonDkimAvailable())('DKIM signed by python3-dkim', () => {
  let key: TestKey;
  let zone: MemoryResolver;
  beforeAll(() => {
    key = rsaKey();
    zone = new MemoryResolver({
      'sel1._domainkey.example.com': { TXT: [key.txt] },
      '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject'] },
      'example.com': { TXT: ['v=spf1 -all'] },
      'mail.example.com': { A: ['192.0.2.10'] },
    });
  });

  const input = (raw: Buffer): AuthInput => ({ ...base, raw });

  it('verifies as dkim=pass, aligned, and DMARC passes', async () => {
    const signed = pythonDkimSign(message('alice@example.com'), 'example.com', 'sel1', key.privatePem);
    const out = await verifySender(input(signed), zone);
    expect(out.dkim).toHaveLength(1);
    expect(out.dkim[0]).toMatchObject({ result: 'pass', domain: 'example.com', selector: 'sel1', aligned: true });
    expect(out.spf.result).toBe('fail');
    expect(out.dmarc).toMatchObject({ result: 'pass', policy: 'reject', domain: 'example.com', alignment: { dkim: true, spf: false } });
    expect(out.header).toMatch(/^mx\.postern\.example; dkim=pass header\.d=example\.com header\.s=sel1; spf=fail/);
    expect(out.header).toContain('dmarc=pass (p=REJECT sp=REJECT) header.from=example.com');
  });

  it('fails when one body byte is altered', async () => {
    const signed = pythonDkimSign(message('alice@example.com'), 'example.com', 'sel1', key.privatePem);
    const at = signed.indexOf('This is a test.');
    const altered = Buffer.from(signed);
    altered[at] = 't'.charCodeAt(0);
    const out = await verifySender(input(altered), zone);
    expect(out.dkim[0]?.result).toBe('fail');
    expect(out.dmarc.result).toBe('fail');
  });

  it('fails when a signed header is altered', async () => {
    const signed = pythonDkimSign(message('alice@example.com'), 'example.com', 'sel1', key.privatePem);
    const altered = Buffer.from(signed.toString('latin1').replace('Subject: test', 'Subject: tesT'), 'latin1');
    const out = await verifySender(input(altered), zone);
    expect(out.dkim[0]?.result).toBe('fail');
  });

  it('passes but does not align when the signer is another organisation', async () => {
    zone.set('sel1._domainkey.other.org', { TXT: [key.txt] });
    const signed = pythonDkimSign(message('alice@example.com'), 'other.org', 'sel1', key.privatePem);
    const out = await verifySender(input(signed), zone);
    expect(out.dkim[0]).toMatchObject({ result: 'pass', domain: 'other.org', aligned: false });
    expect(out.dmarc.result).toBe('fail');
  });

  it('reports a key lookup that fails temporarily as temperror', async () => {
    zone.set('sel2._domainkey.example.com', { fail: ['TXT'] });
    const signed = pythonDkimSign(message('alice@example.com'), 'example.com', 'sel2', key.privatePem);
    const out = await verifySender(input(signed), zone);
    expect(out.dkim[0]?.result).toBe('temperror');
  });
});
