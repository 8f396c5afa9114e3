import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryResolver } from '../net/dns/memory.js';
import { analyzeSpf, parseSpf, type SpfTerm } from './spf.js';

const terms = (text: string): readonly SpfTerm[] => {
  const p = parseSpf(text);
  if (!p.ok) throw new Error(p.problem);
  return p.value;
};

const HOST = { host: 'mail.example.org', addresses: ['192.0.2.25', '2001:db8::25'] };

describe('parseSpf', () => {
  it('reads mechanisms, qualifiers, targets, CIDR lengths and modifiers', () => {
    expect(terms('v=spf1 mx -all')).toEqual([
      { kind: 'mechanism', qualifier: '+', name: 'mx', target: '', cidr4: null, cidr6: null },
      { kind: 'mechanism', qualifier: '-', name: 'all', target: '', cidr4: null, cidr6: null },
    ]);
    expect(terms('v=spf1 ~a:mail.example.org/24//64 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.net redirect=_spf.example.org')).toEqual([
      { kind: 'mechanism', qualifier: '~', name: 'a', target: 'mail.example.org', cidr4: 24, cidr6: 64 },
      { kind: 'mechanism', qualifier: '+', name: 'ip4', target: '192.0.2.0', cidr4: 24, cidr6: null },
      { kind: 'mechanism', qualifier: '+', name: 'ip6', target: '2001:db8::', cidr4: null, cidr6: 32 },
      { kind: 'mechanism', qualifier: '+', name: 'include', target: '_spf.example.net', cidr4: null, cidr6: null },
      { kind: 'modifier', name: 'redirect', value: '_spf.example.org' },
    ]);
  });

  it.each([
    ['v=spf2 mx', /v=spf1/],
    ['v=spf1 mx:', /does not name a domain/],
    ['v=spf1 include', /needs a domain/],
    ['v=spf1 ip4:300.1.1.1', /not an IPv4/],
    ['v=spf1 ip4:192.0.2.0/33', /CIDR/],
    ['v=spf1 ip6:zz::1', /not an IPv6/],
    ['v=spf1 all:x', /no argument/],
    ['v=spf1 frobnicate', /not an SPF mechanism/],
    ['v=spf1 redirect=a.org redirect=b.org', /twice/],
  ])('refuses %j', (text, problem) => {
    expect(parseSpf(text)).toMatchObject({ ok: false, problem });
  });
});

describe('analyzeSpf', () => {
  it('authorises the mail host through mx, a or an address range, first match deciding', async () => {
    const dns = new MemoryResolver({ 'example.org': { MX: [{ exchange: 'mail.example.org', preference: 10 }] }, 'other.example.org': { A: ['192.0.2.25'] } });
    const check = async (text: string) => analyzeSpf('example.org', terms(text), HOST, dns);
    expect(await check('v=spf1 mx -all')).toEqual({ lookups: 1, authorises: true, all: '-', problems: [] });
    expect((await check('v=spf1 a:mail.example.org ~all')).authorises).toBe(true);
    expect((await check('v=spf1 a:other.example.org -all')).authorises).toBe(true);
    expect((await check('v=spf1 ip4:192.0.2.0/24 -all')).authorises).toBe(true);
    expect((await check('v=spf1 ip6:2001:db8::/64 -all')).authorises).toBe(true);
    expect((await check('v=spf1 ip4:198.51.100.0/24 -all')).authorises).toBe(false);
    expect((await check('v=spf1 -mx +all')).authorises).toBe(false);
    expect((await check('v=spf1 ?all')).all).toBe('?');
    expect((await check('v=spf1 mx')).all).toBeNull();
  });

  it('counts lookups through include and redirect and stops past the limit', async () => {
    const dns = new MemoryResolver({
      'example.org': { TXT: ['v=spf1 include:a.example.net redirect=b.example.net'] },
      'a.example.net': { TXT: ['v=spf1 a mx ptr exists:%{i}.x.example.net ip4:192.0.2.0/24 -all'] },
      'b.example.net': { TXT: ['v=spf1 mx:example.org ~all'] },
    });
    const r = await analyzeSpf('example.org', terms('v=spf1 include:a.example.net redirect=b.example.net'), HOST, dns);
    expect(r.lookups).toBe(7); // include, a, mx, ptr, exists, redirect, mx
    expect(r.authorises).toBe(true); // through the include's ip4
    expect(r.all).toBe('~'); // from the redirect target

    // A chain of includes, each adding two lookups: counted to just past the limit, then no further queries.
    const zone: Record<string, { TXT: string[] }> = {};
    for (let i = 0; i < 50; i++) zone[`i${i}.example.net`] = { TXT: [`v=spf1 a include:i${i + 1}.example.net -all`] };
    const chain = new MemoryResolver(zone);
    const deep = await analyzeSpf('example.org', terms('v=spf1 include:i0.example.net -all'), HOST, chain);
    expect(deep.lookups).toBe(11);
    expect(chain.log.length).toBeLessThanOrEqual(45);
  });

  it('names included records that are missing, broken or doubled, and survives a loop', async () => {
    const dns = new MemoryResolver({
      'loop.example.net': { TXT: ['v=spf1 include:loop.example.net -all'] },
      'bad.example.net': { TXT: ['v=spf1 nonsense'] },
      'two.example.net': { TXT: ['v=spf1 -all', 'v=spf1 +all'] },
      'down.example.net': { fail: ['TXT'] },
    });
    const r = await analyzeSpf('example.org', terms('v=spf1 include:loop.example.net include:bad.example.net include:two.example.net include:gone.example.net include:down.example.net mx -all'), HOST, dns);
    expect(r.problems).toEqual([
      'bad.example.net: "nonsense" is not an SPF mechanism',
      'two.example.net publishes 2 SPF records',
      'gone.example.net publishes no SPF record',
      'down.example.net: TXT down.example.net: SERVFAIL',
    ]);
    expect(r.authorises).toBe(false); // no MX for example.org here
  });
});

describe('analyzeSpf on arbitrary records', () => {
  it('answers without throwing and within its query budget', async () => {
    const term = fc.oneof(
      fc.constantFrom('mx', '-all', '~all', '+all', 'a', 'ptr', 'exists:x.example.net', 'redirect=r.example.net', 'include:i.example.net', 'include:r.example.net', 'ip4:192.0.2.0/24', 'ip6:2001:db8::/48', 'a:mail.example.org/24//64'),
      fc.stringMatching(/^[a-z0-9:./=~+-]{1,20}$/),
    );
    const record = fc.array(term, { maxLength: 15 }).map((ts) => `v=spf1 ${ts.join(' ')}`);
    await fc.assert(
      fc.asyncProperty(record, record, async (top, included) => {
        const parsed = parseSpf(top);
        if (!parsed.ok) return;
        const dns = new MemoryResolver({ 'i.example.net': { TXT: [included] }, 'r.example.net': { TXT: [included, 'unrelated'] }, 'example.org': { MX: [{ exchange: 'mail.example.org', preference: 5 }] } });
        const r = await analyzeSpf('example.org', parsed.value, HOST, dns);
        expect(r.lookups).toBeGreaterThanOrEqual(0);
        expect(dns.log.length).toBeLessThanOrEqual(80); // 40 queries, A and AAAA counted apart
      }),
      { numRuns: 300 },
    );
  });
});
