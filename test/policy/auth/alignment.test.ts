// DMARC identifier alignment (RFC 7489 §3.1), relaxed and strict, end to end through verifySender.
import { dkimSign } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryResolver } from '../../../src/net/dns/memory.js';
import { aligned, organizationalDomain, verifySender } from '../../../src/policy/auth/index.js';
import { message, rsaKey, type TestKey } from './fixtures.js';

type Mode = 'r' | 's';
// [From domain, authenticated domain (SPF MAIL FROM domain or DKIM d=), mode, aligned?]
const TABLE: [string, string, Mode, boolean][] = [
  ['example.com', 'example.com', 'r', true],
  ['example.com', 'example.com', 's', true],
  ['example.com', 'EXAMPLE.COM', 's', true],
  ['example.com', 'mail.example.com', 'r', true],
  ['example.com', 'mail.example.com', 's', false],
  ['news.example.com', 'example.com', 'r', true],
  ['news.example.com', 'example.com', 's', false],
  ['a.example.com', 'b.example.com', 'r', true],
  ['a.example.com', 'b.example.com', 's', false],
  ['example.com', 'example.net', 'r', false],
  ['example.com', 'example.net', 's', false],
  ['example.com', 'notexample.com', 'r', false],
  ['shop.example.co.uk', 'mail.example.co.uk', 'r', true],
  ['example.co.uk', 'other.co.uk', 'r', false],
  ['example.co.uk', 'co.uk', 'r', false],
];

describe('aligned()', () => {
  it.each(TABLE)('From %s vs %s (%s) → %s', (from, auth, mode, expected) => {
    expect(aligned(from, auth, mode)).toBe(expected);
  });
  it('finds organizational domains by the public suffix list', () => {
    expect(organizationalDomain('a.b.example.co.uk')).toBe('example.co.uk');
    expect(organizationalDomain('Mail.Example.COM.')).toBe('example.com');
  });
});

describe('DMARC result from alignment', () => {
  let key: TestKey;
  beforeAll(() => {
    key = rsaKey();
  });

  function zoneFor(from: string, auth: string, mode: Mode): MemoryResolver {
    const zone = new MemoryResolver();
    const record = `v=DMARC1; p=reject; adkim=${mode}; aspf=${mode}`;
    zone.set(`_dmarc.${organizationalDomain(from)}`, { TXT: [record] });
    zone.set(auth, { TXT: ['v=spf1 ip4:192.0.2.10 -all'] });
    zone.set(`sel._domainkey.${auth}`, { TXT: [key.txt] });
    zone.set('unrelated.example', { TXT: ['v=spf1 -all'] });
    return zone;
  }

  it.each(TABLE)('SPF: From %s, MAIL FROM domain %s, aspf=%s → aligned %s', async (from, auth, mode, expected) => {
    const out = await verifySender(
      { raw: message(`a@${from}`), sender: `bounce@${auth}`, helo: null, ip: '192.0.2.10', authservId: 'mx.postern.example', mta: 'mx.postern.example' },
      zoneFor(from, auth, mode),
    );
    expect(out.spf.result).toBe('pass');
    expect(out.dmarc.alignment.spf).toBe(expected);
    expect(out.dmarc.result).toBe(expected ? 'pass' : 'fail');
    expect(out.dmarc.alignment.aspf).toBe(mode);
  });

  it.each(TABLE)('DKIM: From %s, d=%s, adkim=%s → aligned %s', async (from, auth, mode, expected) => {
    const raw = message(`a@${from}`);
    // signTime given: without it mailauth reads the clock twice and, across a second boundary, signs a t= it does not write.
    const sig = { signingDomain: auth, selector: 'sel', privateKey: key.privatePem, canonicalization: 'relaxed/relaxed', signTime: new Date() };
    const signed = await dkimSign(raw, { ...sig, signatureData: [sig] });
    const out = await verifySender(
      {
        raw: Buffer.concat([Buffer.from(signed.signatures), raw]),
        sender: 'bounce@unrelated.example',
        helo: null,
        ip: '192.0.2.10',
        authservId: 'mx.postern.example',
        mta: 'mx.postern.example',
      },
      zoneFor(from, auth, mode),
    );
    expect(out.dkim[0]).toMatchObject({ result: 'pass', aligned: expected });
    expect(out.dmarc.alignment.dkim).toBe(expected);
    expect(out.dmarc.result).toBe(expected ? 'pass' : 'fail');
  });
});
