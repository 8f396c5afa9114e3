import { describe, expect, it } from 'vitest';
import { MemoryResolver } from '../../net/dns/memory.js';
import { mailauthResolver } from './resolver.js';

const zone = new MemoryResolver({
  'example.com': { TXT: ['v=spf1 -all'], MX: [{ exchange: 'mx.example.com', preference: 10 }], A: ['192.0.2.1'], AAAA: ['2001:db8::1'] },
  'broken.example': { fail: ['TXT'], A: ['192.0.2.9'] },
  '1.2.0.192.in-addr.arpa': { PTR: ['mx.example.com'] },
});

async function code(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
}

describe('mailauthResolver', () => {
  it('answers as dns.promises.resolve does', async () => {
    const r = mailauthResolver(zone);
    expect(await r('example.com', 'TXT')).toEqual([['v=spf1 -all']]);
    expect(await r('example.com', 'MX')).toEqual([{ exchange: 'mx.example.com', priority: 10 }]);
    expect(await r('example.com', 'A')).toEqual(['192.0.2.1']);
    expect(await r('example.com', 'AAAA')).toEqual(['2001:db8::1']);
    expect(await r('1.2.0.192.in-addr.arpa', 'PTR')).toEqual(['mx.example.com']);
  });

  it('maps nxdomain, nodata, temperror and unknown types to error codes', async () => {
    const r = mailauthResolver(zone);
    expect(await code(r('nowhere.example', 'TXT'))).toBe('ENOTFOUND');
    expect(await code(r('broken.example', 'MX'))).toBe('ENODATA');
    expect(await code(r('broken.example', 'TXT'))).toBe('ETIMEOUT');
    expect(await code(r('example.com', 'SRV'))).toBe('ENOTFOUND');
  });

  it('treats a throwing resolver as a temporary failure and PTR without support as none', async () => {
    const r = mailauthResolver({
      txt: () => Promise.reject(new Error('socket closed')),
      a: (n) => zone.a(n),
      mx: (n) => zone.mx(n),
      aaaa: (n) => zone.aaaa(n),
      tlsa: (n) => zone.tlsa(n),
    });
    expect(await code(r('example.com', 'TXT'))).toBe('ETIMEOUT');
    expect(await code(r('1.2.0.192.in-addr.arpa', 'PTR'))).toBe('ENOTFOUND');
  });

  it('fails lookups past the per-message cap temporarily, never as "no record"', async () => {
    const temp: string[] = [];
    const r = mailauthResolver(zone, { maxLookups: 3, onTempError: (n) => temp.push(n) });
    for (let i = 0; i < 3; i++) expect(await code(r('example.com', 'A'))).toBe('resolved');
    expect(await code(r('example.com', 'A'))).toBe('ETIMEOUT');
    expect(temp).toEqual(['example.com']);
  });
});
