import { describe, expect, it } from 'vitest';
import { MemoryResolver } from '../../net/dns/memory.js';
import { hostAddresses, resolveRoute } from './route.js';

const dns = new MemoryResolver({
  'multi.test': {
    MX: [
      { exchange: 'b.multi.test', preference: 20 },
      { exchange: 'a.multi.test', preference: 10 },
      { exchange: 'c.multi.test', preference: 10 },
      { exchange: '192.0.2.1', preference: 5 },
    ],
    secure: true,
  },
  'plain.test': { A: ['192.0.2.7'] },
  'null.test': { MX: [{ exchange: '', preference: 0 }] },
  'broken.test': { fail: ['MX'] },
  'onlyv6.test': { AAAA: ['2001:db8::1'] },
  'flaky.test': { fail: ['A', 'AAAA'] },
});

describe('resolveRoute', () => {
  it('orders MX hosts by preference, skipping address literals', async () => {
    const r = await resolveRoute('multi.test', dns);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.hosts.map((h) => h.preference)).toEqual([10, 10, 20]);
    expect(new Set(r.hosts.slice(0, 2).map((h) => h.host))).toEqual(new Set(['a.multi.test', 'c.multi.test']));
    expect(r.hosts[2]).toEqual({ host: 'b.multi.test', preference: 20, authenticated: true });
  });

  it('falls back to the domain itself when there is no MX (implicit MX)', async () => {
    expect(await resolveRoute('plain.test', dns)).toEqual({ ok: true, hosts: [{ host: 'plain.test', preference: 0, authenticated: false }] });
  });

  it('fails permanently for a null MX and a domain that does not exist, temporarily for a DNS failure', async () => {
    expect(await resolveRoute('null.test', dns)).toMatchObject({ ok: false, permanent: true, status: '5.1.10' });
    expect(await resolveRoute('nowhere.test', dns)).toMatchObject({ ok: false, permanent: true, status: '5.1.2' });
    expect(await resolveRoute('broken.test', dns)).toMatchObject({ ok: false, permanent: false, status: '4.4.3' });
  });
});

describe('hostAddresses', () => {
  it('returns IPv4 then IPv6, literals as they are, and says why none', async () => {
    expect(await hostAddresses('plain.test', dns)).toEqual({ ok: true, addresses: ['192.0.2.7'] });
    expect(await hostAddresses('onlyv6.test', dns)).toEqual({ ok: true, addresses: ['2001:db8::1'] });
    expect(await hostAddresses('127.0.0.1', dns)).toEqual({ ok: true, addresses: ['127.0.0.1'] });
    expect(await hostAddresses('nowhere.test', dns)).toMatchObject({ ok: false, permanent: true });
    expect(await hostAddresses('flaky.test', dns)).toMatchObject({ ok: false, permanent: false });
  });
});
