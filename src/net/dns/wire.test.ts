import { afterEach, describe, expect, it } from 'vitest';
import { WireResolver, parseServer } from './wire.js';
import { ZoneServer } from './testing/zone-server.js';
import type { ZoneEntry } from './memory.js';

const TLSA = { usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 7) };
const zone: Record<string, ZoneEntry> = {
  'dest.test': { MX: [{ exchange: 'mx1.dest.test', preference: 10 }], TXT: ['v=spf1 -all'], secure: true },
  'mx1.dest.test': { A: ['127.0.0.1'], AAAA: ['::1'], secure: true },
  '_25._tcp.mx1.dest.test': { TLSA: [TLSA], secure: true },
  '_25._tcp.mx2.dest.test': { TLSA: [TLSA], secure: false },
  'nullmx.test': { MX: [{ exchange: '', preference: 0 }] },
  'broken.test': { fail: ['MX'] },
  '_imaps._tcp.dest.test': { SRV: [{ priority: 0, weight: 1, port: 993, target: 'mx1.dest.test' }] },
  '_imap._tcp.dest.test': { SRV: [{ priority: 0, weight: 0, port: 0, target: '' }] },
  'mta-sts.dest.test': { CNAME: ['mx1.dest.test'] },
  '_mta-sts.long.test': { TXT: ['v=STSv1; id=' + 'x'.repeat(300)] },
};

describe('WireResolver against a loopback DNS server', () => {
  let server: ZoneServer | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
  });

  const start = async (opts = {}) => {
    server = await new ZoneServer(zone, opts).start();
    return new WireResolver({ server: server.address, timeoutMs: 500, tries: 1 });
  };

  it('reads MX, A, AAAA and TXT with the AD bit', async () => {
    const r = await start();
    expect(await r.mx('Dest.Test.')).toEqual({ status: 'ok', records: [{ exchange: 'mx1.dest.test', preference: 10 }], authenticated: true, ttl: 60 });
    expect(await r.a('mx1.dest.test')).toEqual({ status: 'ok', records: ['127.0.0.1'], authenticated: true, ttl: 60 });
    expect(await r.aaaa('mx1.dest.test')).toEqual({ status: 'ok', records: ['::1'], authenticated: true, ttl: 60 });
    expect(await r.txt('dest.test')).toEqual({ status: 'ok', records: ['v=spf1 -all'], authenticated: true, ttl: 60 });
    expect(await r.txt('_mta-sts.long.test')).toMatchObject({ status: 'ok', records: ['v=STSv1; id=' + 'x'.repeat(300)], authenticated: false });
  });

  it('reads SRV records, "." as not offered, and CNAME targets', async () => {
    const r = await start();
    expect(await r.srv('_imaps._tcp.dest.test')).toMatchObject({ status: 'ok', records: [{ priority: 0, weight: 1, port: 993, target: 'mx1.dest.test' }] });
    expect(await r.srv('_imap._tcp.dest.test')).toMatchObject({ status: 'ok', records: [{ priority: 0, weight: 0, port: 0, target: '' }] });
    expect(await r.cname('mta-sts.dest.test')).toMatchObject({ status: 'ok', records: ['mx1.dest.test'] });
    expect(await r.cname('dest.test')).toMatchObject({ status: 'nodata' });
    expect(await r.srv('_pop3s._tcp.dest.test')).toMatchObject({ status: 'nxdomain' });
  });

  it('returns TLSA records and whether they were authenticated', async () => {
    const r = await start();
    const secure = await r.tlsa('_25._tcp.mx1.dest.test');
    expect(secure).toMatchObject({ status: 'ok', authenticated: true });
    expect(secure.status === 'ok' && secure.records[0]!.data.equals(TLSA.data)).toBe(true);
    expect(await r.tlsa('_25._tcp.mx2.dest.test')).toMatchObject({ status: 'ok', authenticated: false });
  });

  it('tells NXDOMAIN, NODATA, a null MX and SERVFAIL apart', async () => {
    const r = await start();
    expect(await r.mx('nowhere.test')).toEqual({ status: 'nxdomain', authenticated: false });
    expect(await r.a('dest.test')).toEqual({ status: 'nodata', authenticated: true });
    expect(await r.mx('nullmx.test')).toMatchObject({ status: 'ok', records: [{ exchange: '', preference: 0 }] });
    expect(await r.mx('broken.test')).toMatchObject({ status: 'temperror' });
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    const r = await start({ truncateUdp: true });
    expect(await r.mx('dest.test')).toMatchObject({ status: 'ok', records: [{ exchange: 'mx1.dest.test' }] });
    expect(server!.queries.filter((q) => q === 'MX dest.test')).toHaveLength(2);
  });

  it('reports a silent resolver as a temporary error', async () => {
    const r = await start({ silent: true });
    expect(await r.mx('dest.test')).toMatchObject({ status: 'temperror', reason: expect.stringMatching(/timeout/) });
  });
});

describe('parseServer', () => {
  it('accepts IPs with optional ports and refuses names', () => {
    expect(parseServer('127.0.0.1')).toEqual({ host: '127.0.0.1', port: 53 });
    expect(parseServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseServer('[::1]:54')).toEqual({ host: '::1', port: 54 });
    expect(parseServer('::1')).toEqual({ host: '::1', port: 53 });
    expect(() => parseServer('resolver.example')).toThrow(/not a resolver address/);
    expect(() => parseServer('127.0.0.1:70000')).toThrow(/out of range/);
  });
});
