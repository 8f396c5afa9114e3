// SPF (RFC 7208) from a fake zone, through verifySender.
import { describe, expect, it } from 'vitest';
import { MemoryResolver, type ZoneEntry } from '../../../src/net/dns/memory.js';
import { verifySender, type AuthOutcome } from '../../../src/policy/auth/index.js';
import { message } from './fixtures.js';

async function check(zone: Record<string, ZoneEntry>, sender: string, ip: string, helo: string | null = null): Promise<AuthOutcome> {
  return verifySender({ raw: message('a@from.example'), sender, helo, ip, authservId: 'mx.postern.example', mta: 'mx.postern.example' }, new MemoryResolver(zone));
}

describe('SPF', () => {
  it('pass, fail, softfail and neutral by the all qualifier', async () => {
    const zone = {
      'hard.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
      'soft.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 ~all'] },
      'neutral.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 ?all'] },
    };
    expect((await check(zone, 'x@hard.example', '192.0.2.7')).spf.result).toBe('pass');
    expect((await check(zone, 'x@hard.example', '198.51.100.7')).spf.result).toBe('fail');
    expect((await check(zone, 'x@soft.example', '198.51.100.7')).spf.result).toBe('softfail');
    expect((await check(zone, 'x@neutral.example', '198.51.100.7')).spf.result).toBe('neutral');
    expect((await check(zone, 'x@nospf.example', '198.51.100.7')).spf.result).toBe('none');
  });

  it('follows include and redirect', async () => {
    const zone = {
      'inc.example': { TXT: ['v=spf1 include:_spf.provider.example -all'] },
      '_spf.provider.example': { TXT: ['v=spf1 ip4:203.0.113.0/24 ip6:2001:db8::/32 -all'] },
      'redir.example': { TXT: ['v=spf1 redirect=_spf.provider.example'] },
      'mx.example': { TXT: ['v=spf1 mx a:relay.mx.example -all'], MX: [{ exchange: 'in.mx.example', preference: 10 }] },
      'in.mx.example': { A: ['198.51.100.25'] },
      'relay.mx.example': { A: ['198.51.100.26'] },
    };
    expect((await check(zone, 'x@inc.example', '203.0.113.5')).spf.result).toBe('pass');
    expect((await check(zone, 'x@inc.example', '2001:db8::5')).spf.result).toBe('pass');
    expect((await check(zone, 'x@inc.example', '198.51.100.5')).spf.result).toBe('fail');
    expect((await check(zone, 'x@redir.example', '203.0.113.9')).spf.result).toBe('pass');
    expect((await check(zone, 'x@redir.example', '198.51.100.9')).spf.result).toBe('fail');
    expect((await check(zone, 'x@mx.example', '198.51.100.25')).spf.result).toBe('pass');
    expect((await check(zone, 'x@mx.example', '198.51.100.26')).spf.result).toBe('pass');
    expect((await check(zone, 'x@mx.example', '198.51.100.27')).spf.result).toBe('fail');
  });

  it('expands the macros %{i}, %{s}, %{l} and %{d}', async () => {
    const zone = {
      'macro.example': { TXT: ['v=spf1 exists:%{i}._ip.%{d} exists:%{l}.%{s}._user.macro.example -all'] },
      // %{i} for 192.0.2.44, %{d} macro.example
      '192.0.2.44._ip.macro.example': { A: ['127.0.0.2'] },
      // %{l}=alice, %{s}=alice@macro.example
      'alice.alice@macro.example._user.macro.example': { A: ['127.0.0.2'] },
      'rev.example': { TXT: ['v=spf1 exists:%{ir}.%{v}._rev.%{d2} -all'] },
      '44.2.0.192.in-addr._rev.rev.example': { A: ['127.0.0.2'] },
    };
    expect((await check(zone, 'bob@macro.example', '192.0.2.44')).spf.result).toBe('pass');
    expect((await check(zone, 'bob@macro.example', '192.0.2.45')).spf.result).toBe('fail');
    expect((await check(zone, 'alice@macro.example', '192.0.2.45')).spf.result).toBe('pass');
    expect((await check(zone, 'x@rev.example', '192.0.2.44')).spf.result).toBe('pass');
  });

  it('gives permerror past 10 DNS-querying mechanisms', async () => {
    const zone: Record<string, ZoneEntry> = { 'many.example': { TXT: [`v=spf1 ${Array.from({ length: 11 }, (_, i) => `a:h${i}.many.example`).join(' ')} -all`] } };
    for (let i = 0; i < 11; i++) zone[`h${i}.many.example`] = { A: ['198.51.100.1'] };
    const ten: Record<string, ZoneEntry> = { 'ten.example': { TXT: [`v=spf1 ${Array.from({ length: 10 }, (_, i) => `a:h${i}.ten.example`).join(' ')} -all`] } };
    for (let i = 0; i < 10; i++) ten[`h${i}.ten.example`] = { A: ['198.51.100.1'] };
    expect((await check(zone, 'x@many.example', '192.0.2.1')).spf.result).toBe('permerror');
    expect((await check(ten, 'x@ten.example', '192.0.2.1')).spf.result).toBe('fail');
  });

  it('gives permerror past two void lookups', async () => {
    const zone = {
      'void.example': { TXT: ['v=spf1 a:v1.void.example a:v2.void.example a:v3.void.example -all'] },
      'two.example': { TXT: ['v=spf1 a:v1.two.example a:v2.two.example -all'] },
    };
    expect((await check(zone, 'x@void.example', '192.0.2.1')).spf.result).toBe('permerror');
    expect((await check(zone, 'x@two.example', '192.0.2.1')).spf.result).toBe('fail');
  });

  it('gives temperror when the TXT lookup fails, and no exception', async () => {
    const zone: Record<string, ZoneEntry> = { 'down.example': { fail: ['TXT'] } };
    const out = await check(zone, 'x@down.example', '192.0.2.1');
    expect(out.spf.result).toBe('temperror');
  });

  it('checks the HELO identity, and uses it for the null sender', async () => {
    const zone = {
      'mail.sender.example': { TXT: ['v=spf1 ip4:192.0.2.10 -all'] },
      'sender.example': { TXT: ['v=spf1 -all'] },
    };
    const withSender = await check(zone, 'x@sender.example', '192.0.2.10', 'mail.sender.example');
    expect(withSender.spf).toMatchObject({ result: 'fail', domain: 'sender.example', helo: 'pass', heloDomain: 'mail.sender.example' });
    const bounce = await check(zone, '', '192.0.2.10', 'mail.sender.example');
    expect(bounce.spf).toMatchObject({ result: 'pass', domain: 'mail.sender.example', helo: 'pass' });
    const badHelo = await check(zone, '', '198.51.100.1', 'mail.sender.example');
    expect(badHelo.spf).toMatchObject({ result: 'fail', helo: 'fail' });
    const literal = await check(zone, 'x@sender.example', '192.0.2.10', '[192.0.2.10]');
    expect(literal.spf).toMatchObject({ helo: 'none', heloDomain: null });
  });

  it('checks ptr through the optional PTR lookup', async () => {
    const zone = {
      'ptr.example': { TXT: ['v=spf1 ptr -all'] },
      '10.2.0.192.in-addr.arpa': { PTR: ['mail.ptr.example'] },
      'mail.ptr.example': { A: ['192.0.2.10'] },
    };
    expect((await check(zone, 'x@ptr.example', '192.0.2.10')).spf.result).toBe('pass');
    expect((await check(zone, 'x@ptr.example', '192.0.2.11')).spf.result).toBe('fail');
  });
});
