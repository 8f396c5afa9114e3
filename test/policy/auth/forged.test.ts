// Forged Authentication-Results, DNS temperror, and hostile bytes.
import fc from 'fast-check';
import { dkimSign } from 'mailauth';
import { describe, expect, it } from 'vitest';
import { MemoryResolver } from '../../../src/net/dns/memory.js';
import { dmarcDecision, stripForgedAuthResults, verifySender, type AuthInput } from '../../../src/policy/auth/index.js';
import { message, rsaKey } from './fixtures.js';

const AUTHSERV = 'mx.postern.example';
const base = { sender: 'ceo@bank.example', helo: 'mail.attacker.example', ip: '198.51.100.66', authservId: AUTHSERV, mta: AUTHSERV };
const zone = (): MemoryResolver =>
  new MemoryResolver({
    'bank.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    '_dmarc.bank.example': { TXT: ['v=DMARC1; p=reject; rua=mailto:d@bank.example'] },
    'nopolicy.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
  });

describe('forged Authentication-Results', () => {
  const forged = (from: string): Buffer =>
    message(from, 'Pay now.\r\n', `Authentication-Results: ${AUTHSERV.toUpperCase()}; dkim=pass header.d=bank.example; dmarc=pass header.from=bank.example\r\n`);

  it('is removed and does not change the result of an unsigned message (DMARC fail)', async () => {
    const raw = forged('ceo@bank.example');
    expect(stripForgedAuthResults(raw, AUTHSERV).removed).toBe(1);
    const out = await verifySender({ ...base, raw }, zone());
    const clean = await verifySender({ ...base, raw: message('ceo@bank.example', 'Pay now.\r\n') }, zone());
    expect(out.strippedAuthResults).toBe(1);
    expect(out.dkim).toEqual([]);
    expect(out.dmarc.result).toBe('fail');
    expect(out.header).toBe(clean.header);
    expect(dmarcDecision(out)).toMatchObject({ action: 'reject' });
  });

  it('is removed and leaves DMARC none for a domain without a policy', async () => {
    const out = await verifySender({ ...base, sender: 'x@nopolicy.example', raw: forged('ceo@nopolicy.example') }, zone());
    expect(out.strippedAuthResults).toBe(1);
    expect(out.dmarc.result).toBe('none');
    expect(out.header).toContain('dkim=none');
  });
});

describe('a DKIM signature covering only part of the body (l=)', () => {
  it('passes, but does not make DMARC pass once content is appended', async () => {
    const key = rsaKey();
    const z = zone().set('k._domainkey.bank.example', { TXT: [key.txt] });
    const raw = message('ceo@bank.example', 'Signed part.\r\n');
    // signTime given: without it mailauth reads the clock twice and, across a second boundary, signs a t= it does not write.
    const sig = { signingDomain: 'bank.example', selector: 'k', privateKey: key.privatePem, canonicalization: 'relaxed/relaxed', maxBodyLength: 14, signTime: new Date() };
    const signed = Buffer.concat([Buffer.from((await dkimSign(raw, { ...sig, signatureData: [sig] })).signatures), raw]);
    const intact = await verifySender({ ...base, raw: signed }, z);
    expect(intact.dkim[0]).toMatchObject({ result: 'pass', unsignedBodyBytes: 0 });
    expect(intact.dmarc.result).toBe('pass');
    const appended = await verifySender({ ...base, raw: Buffer.concat([signed, Buffer.from('Pay to account 123.\r\n')]) }, z);
    expect(appended.dkim[0]?.result).toBe('pass');
    expect(appended.dkim[0]?.unsignedBodyBytes).toBeGreaterThan(0);
    expect(appended.dmarc.result).toBe('fail');
    expect(appended.header).toContain('body bytes unsigned');
  });
});

describe('many signatures', () => {
  it('lists 16 but counts every one for DMARC', async () => {
    const key = rsaKey();
    const z = zone().set('k._domainkey.bank.example', { TXT: [key.txt] });
    const raw = message('ceo@bank.example');
    const signTime = new Date();
    const one = (d: string) => ({ signingDomain: d, selector: 'k', privateKey: key.privatePem, canonicalization: 'relaxed/relaxed', signTime });
    const sigs = [...Array.from({ length: 20 }, (_, i) => one(`other${i}.example`)), one('bank.example')];
    const signed = await dkimSign(raw, { ...one('bank.example'), signatureData: sigs });
    const out = await verifySender({ ...base, raw: Buffer.concat([Buffer.from(signed.signatures), raw]) }, z);
    expect(out.dkim).toHaveLength(16);
    expect(out.dkim.some((s) => s.domain === 'bank.example')).toBe(false);
    expect(out.dmarc).toMatchObject({ result: 'pass', alignment: { dkim: true } });
  });
});

describe('DNS temperror', () => {
  it('becomes temperror results and a tempfail decision, never a throw', async () => {
    const z = new MemoryResolver({
      'bank.example': { fail: ['TXT', 'A', 'MX'] },
      '_dmarc.bank.example': { fail: ['TXT'] },
    });
    const out = await verifySender({ ...base, raw: message('ceo@bank.example') }, z);
    expect(out.spf.result).toBe('temperror');
    expect(out.dmarc.result).toBe('temperror');
    expect(dmarcDecision(out)).toMatchObject({ action: 'tempfail' });
    expect(dmarcDecision(out, { temperror: 'pass' })).toMatchObject({ action: 'pass' });
  });

  it('a resolver that rejects every lookup still yields an outcome', async () => {
    const fail = (): Promise<never> => Promise.reject(new Error('boom'));
    const out = await verifySender({ ...base, raw: message('ceo@bank.example') }, { txt: fail, a: fail, aaaa: fail, mx: fail, tlsa: fail });
    expect(out.dmarc.result).toBe('temperror');
    expect(out.spf.result).toBe('temperror');
  });

  it('running out of the per-message lookup budget is temperror, not "no policy"', async () => {
    const out = await verifySender({ ...base, raw: message('ceo@bank.example') }, zone(), { maxLookups: 1 });
    expect(out.dmarc.result).toBe('temperror');
    expect(dmarcDecision(out).action).toBe('tempfail');
  });
});

describe('hostile input', () => {
  const input = (raw: Uint8Array): AuthInput => ({ ...base, raw });

  it('random bytes never throw out of verifySender or stripForgedAuthResults', async () => {
    const z = zone();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.string({ maxLength: 40 }), async (raw, id) => {
        const s = stripForgedAuthResults(raw, id);
        expect(s.raw.length).toBeLessThanOrEqual(raw.length);
        const out = await verifySender(input(raw), z);
        expect(typeof out.header).toBe('string');
        expect(out.header).not.toMatch(/[\r\n]/);
        expect(() => structuredClone(out)).not.toThrow();
      }),
      { numRuns: 150 },
    );
  });

  it('header-like random text never throws either', async () => {
    const z = zone();
    const line = fc.oneof(
      fc.constantFrom('From: a@bank.example', 'From: a@b.example, c@d.example', 'DKIM-Signature: v=1; a=rsa-sha256; d=bank.example; s=x; b=AAAA; bh=AAAA; h=from', 'ARC-Seal: i=1; cv=none; d=x.example; s=s; a=rsa-sha256; b=AA', 'ARC-Message-Signature: i=1; d=x.example; s=s; a=rsa-sha256; h=from; bh=AA; b=AA', 'ARC-Authentication-Results: i=1; x.example; dmarc=pass', `Authentication-Results: ${AUTHSERV}; dkim=pass`, ' folded', ''),
      fc.string({ maxLength: 80 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 20 }), async (lines) => {
        const out = await verifySender(input(Buffer.from(lines.join('\r\n'), 'utf8')), z);
        expect(['pass', 'fail', 'none', 'temperror', 'permerror']).toContain(out.dmarc.result);
      }),
      { numRuns: 150 },
    );
  });

  it('a message whose header is over 1 MiB fails closed (temperror), not open', async () => {
    const pad = `X-Pad: ${'a'.repeat(1000)}\r\n`.repeat(1100);
    const out = await verifySender(input(Buffer.from(pad + 'From: ceo@bank.example\r\n\r\nbody')), zone());
    expect(out.dmarc.result).toBe('temperror');
  });

  it('a From with two domains is permerror and junk, not a way around a policy', async () => {
    const raw = Buffer.from('From: ceo@bank.example, x@attacker.example\r\nSubject: hi\r\n\r\nbody\r\n');
    const out = await verifySender(input(raw), zone());
    expect(out.dmarc.result).toBe('permerror');
    expect(dmarcDecision(out).action).toBe('junk');
  });
});
