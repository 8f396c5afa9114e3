// ARC sealing of forwarded mail: postern seals, mailauth and python3-dkim validate the chain.
import dns from 'node:dns';
import { dkimSign } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryResolver } from '../../../src/net/dns/memory.js';
import { arcSealForward, dmarcDecision, verifySender, type AuthInput } from '../../../src/policy/auth/index.js';
import { message, pythonArcVerify, pythonDkimAvailable, rsaKey, type TestKey } from './fixtures.js';

const ORIGIN = { domain: 'bank.example', selector: 'k1' };
const FORWARDER = { domain: 'forward.example', selector: 'arc1', authserv: 'mx.forward.example' };
const FINAL = 'mx.final.example';

describe('arcSealForward', () => {
  let origin: TestKey;
  let arcKey: TestKey;
  let zone: MemoryResolver;
  let txt: Record<string, string>;

  beforeAll(() => {
    origin = rsaKey();
    arcKey = rsaKey();
    txt = {
      [`${ORIGIN.selector}._domainkey.${ORIGIN.domain}`]: origin.txt,
      [`${FORWARDER.selector}._domainkey.${FORWARDER.domain}`]: arcKey.txt,
    };
    zone = new MemoryResolver({
      [`${ORIGIN.selector}._domainkey.${ORIGIN.domain}`]: { TXT: [origin.txt] },
      [`${FORWARDER.selector}._domainkey.${FORWARDER.domain}`]: { TXT: [arcKey.txt] },
      [ORIGIN.domain]: { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
      [`_dmarc.${ORIGIN.domain}`]: { TXT: ['v=DMARC1; p=reject'] },
      [FORWARDER.domain]: { TXT: ['v=spf1 ip4:203.0.113.0/24 -all'] },
    });
  });

  async function signedAtOrigin(): Promise<Buffer> {
    const raw = message(`ceo@${ORIGIN.domain}`);
    // signTime given: without it mailauth reads the clock twice and, across a second boundary, signs a t= it does not write.
    const sig = { signingDomain: ORIGIN.domain, selector: ORIGIN.selector, privateKey: origin.privatePem, canonicalization: 'relaxed/relaxed', signTime: new Date() };
    const r = await dkimSign(raw, { ...sig, signatureData: [sig] });
    return Buffer.concat([Buffer.from(r.signatures), raw]);
  }

  /** The forwarder receives the message from the origin, verifies, seals, and forwards. */
  async function forwarded(): Promise<{ sealed: Buffer; firstHop: Awaited<ReturnType<typeof verifySender>> }> {
    const raw = await signedAtOrigin();
    const hop: AuthInput = { raw, sender: `ceo@${ORIGIN.domain}`, helo: 'out.bank.example', ip: '192.0.2.5', authservId: FORWARDER.authserv, mta: FORWARDER.authserv };
    const firstHop = await verifySender(hop, zone);
    const sealed = await arcSealForward(raw, { ...FORWARDER, privateKey: arcKey.privatePem, authResults: firstHop.header, resolver: zone });
    return { sealed: Buffer.from(sealed), firstHop };
  }

  it('prepends an ARC set that mailauth validates', async () => {
    const { sealed, firstHop } = await forwarded();
    expect(firstHop.dmarc.result).toBe('pass');
    const text = sealed.toString('latin1');
    expect(text.startsWith('ARC-Seal: i=1;')).toBe(true);
    expect(text).toContain('ARC-Message-Signature: i=1;');
    expect(text).toContain(`ARC-Authentication-Results: i=1; ${FORWARDER.authserv};`);
    const final = await verifySender({ raw: sealed, sender: `ceo@${ORIGIN.domain}`, helo: 'mx.forward.example', ip: '203.0.113.9', authservId: FINAL, mta: FINAL }, zone);
    expect(final.arc).toMatchObject({ result: 'pass', length: 1, sealers: [FORWARDER.domain] });
    expect(final.arc.upstream).toMatchObject({ dmarc: 'pass', dkimAligned: true });
  });

  it.runIf(pythonDkimAvailable())('produces a chain python3-dkim arcverify accepts', async () => {
    const { sealed } = await forwarded();
    expect(pythonArcVerify(sealed, txt).cv).toBe('pass');
    // A changed body breaks the chain for python3-dkim too: the test can fail.
    const broken = Buffer.from(sealed.toString('latin1').replace('This is a test.', 'This is a TEST.'), 'latin1');
    expect(pythonArcVerify(broken, txt).cv).toBe('fail');
  });

  it('lets a trusted sealer override a DMARC failure caused by a forwarder that changed the message', async () => {
    const { sealed } = await forwarded();
    // The forwarder (or a list after it) adds a footer: the origin's DKIM breaks, SPF is the forwarder's.
    const footed = Buffer.concat([sealed, Buffer.from('-- \r\nforwarded by forward.example\r\n')]);
    const resealed = await arcSealForward(footed, { ...FORWARDER, privateKey: arcKey.privatePem, authResults: `${FORWARDER.authserv}; arc=pass`, resolver: zone });
    const final = await verifySender({ raw: resealed, sender: `bounce@${FORWARDER.domain}`, helo: 'mx.forward.example', ip: '203.0.113.9', authservId: FINAL, mta: FINAL }, zone);
    expect(final.dmarc.result).toBe('fail');
    expect(final.arc).toMatchObject({ result: 'pass', length: 2 });
    expect(dmarcDecision(final).action).toBe('reject');
    // i=2's AAR says only arc=pass, so it vouches for nothing: no override even when trusted.
    expect(dmarcDecision(final, { trustedArcSealers: [FORWARDER.domain] }).action).toBe('reject');
  });

  it('overrides when the trusted newest sealer saw DMARC pass before the change', async () => {
    const raw = await signedAtOrigin();
    const hop: AuthInput = { raw, sender: `ceo@${ORIGIN.domain}`, helo: 'out.bank.example', ip: '192.0.2.5', authservId: FORWARDER.authserv, mta: FORWARDER.authserv };
    const firstHop = await verifySender(hop, zone);
    // The forwarder changes the message first (a footer), then seals with what it saw on arrival.
    const footed = Buffer.concat([raw, Buffer.from('-- \r\nfooter\r\n')]);
    const sealed = await arcSealForward(footed, { ...FORWARDER, privateKey: arcKey.privatePem, authResults: firstHop.header, resolver: zone });
    const final = await verifySender({ raw: sealed, sender: `bounce@${FORWARDER.domain}`, helo: 'mx.forward.example', ip: '203.0.113.9', authservId: FINAL, mta: FINAL }, zone);
    expect(final.dkim[0]?.result).toBe('fail');
    expect(final.dmarc.result).toBe('fail');
    expect(final.arc.result).toBe('pass');
    expect(dmarcDecision(final).action).toBe('reject');
    expect(dmarcDecision(final, { trustedArcSealers: [FORWARDER.domain] })).toMatchObject({ action: 'pass', reason: expect.stringMatching(/^arc-override/) });
  });

  it('a tampered seal fails the chain, and a failed chain is not sealed again', async () => {
    const { sealed } = await forwarded();
    const tampered = Buffer.from(sealed.toString('latin1').replace(/cv=none/, 'cv=none; x=1'), 'latin1');
    const out = await verifySender({ raw: tampered, sender: 'a@x.example', helo: null, ip: '203.0.113.9', authservId: FINAL, mta: FINAL }, zone);
    expect(out.arc.result).toBe('fail');
    const resealed = await arcSealForward(tampered, { ...FORWARDER, privateKey: arcKey.privatePem, authResults: `${FINAL}; arc=fail`, resolver: zone });
    expect(Buffer.from(resealed).toString('latin1')).toMatch(/^ARC-Seal: i=2;[^\r\n]*cv=fail/);
    const again = await arcSealForward(resealed, { ...FORWARDER, privateKey: arcKey.privatePem, authResults: `${FINAL}; arc=fail`, resolver: zone });
    expect(Buffer.from(again).equals(Buffer.from(resealed))).toBe(true);
  });

  it('never asks the system resolver: every lookup goes through the injected one', async () => {
    const calls: string[] = [];
    const saved = dns.promises.resolve;
    dns.promises.resolve = ((name: string) => {
      calls.push(name);
      return Promise.reject(Object.assign(new Error('system resolver used'), { code: 'ESERVFAIL' }));
    }) as typeof dns.promises.resolve;
    try {
      const { sealed } = await forwarded();
      const final = await verifySender({ raw: sealed, sender: `ceo@${ORIGIN.domain}`, helo: 'mx.forward.example', ip: '203.0.113.9', authservId: FINAL, mta: FINAL }, zone);
      expect(final.arc.result).toBe('pass');
      expect(final.lookups).toBeGreaterThan(3);
    } finally {
      dns.promises.resolve = saved;
    }
    expect(calls).toEqual([]);
  });

  it('a seal key DNS failure is arc=temperror, not fail', async () => {
    const { sealed } = await forwarded();
    const z = new MemoryResolver({ [`${FORWARDER.selector}._domainkey.${FORWARDER.domain}`]: { fail: ['TXT'] } });
    const out = await verifySender({ raw: sealed, sender: 'a@x.example', helo: null, ip: '203.0.113.9', authservId: FINAL, mta: FINAL }, z);
    expect(out.arc.result).toBe('temperror');
  });
});
