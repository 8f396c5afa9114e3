import { describe, expect, it } from 'vitest';
import { MemoryResolver } from '../../net/dns/memory.js';
import { discoverDmarc, parseDmarcRecord } from './dmarc-record.js';
import { mailauthResolver } from './resolver.js';

describe('parseDmarcRecord', () => {
  it('reads p, sp, adkim, aspf and pct', () => {
    expect(parseDmarcRecord('v=DMARC1; p=reject; sp=none; adkim=s; aspf=s; pct=25', false)).toMatchObject({ policy: 'reject', p: 'reject', sp: 'none', adkim: 's', aspf: 's', pct: 25 });
    expect(parseDmarcRecord('v=DMARC1; p=reject; sp=none', true)?.policy).toBe('none');
    expect(parseDmarcRecord('v=DMARC1; p=quarantine', true)?.policy).toBe('quarantine');
    expect(parseDmarcRecord('v=DMARC1;p=Reject;ADKIM=S', false)).toMatchObject({ p: 'reject', adkim: 's', aspf: 'r', pct: 100 });
  });

  it('treats a bad p= as none when rua= is present, else ignores the record (RFC 7489 §6.6.3)', () => {
    expect(parseDmarcRecord('v=DMARC1; p=bogus; rua=mailto:d@example.com', false)?.policy).toBe('none');
    expect(parseDmarcRecord('v=DMARC1; rua=mailto:d@example.com', false)?.policy).toBe('none');
    expect(parseDmarcRecord('v=DMARC1; p=bogus', false)).toBeNull();
    expect(parseDmarcRecord('v=DMARC1; p=reject; sp=bogus', false)).toBeNull();
    expect(parseDmarcRecord('v=spf1 -all', false)).toBeNull();
  });

  it('ignores a pct that is not 0..100', () => {
    expect(parseDmarcRecord('v=DMARC1; p=reject; pct=abc', false)?.pct).toBe(100);
    expect(parseDmarcRecord('v=DMARC1; p=reject; pct=150', false)?.pct).toBe(100);
    expect(parseDmarcRecord('v=DMARC1; p=reject; pct=0', false)?.pct).toBe(0);
  });
});

describe('discoverDmarc', () => {
  const zone = new MemoryResolver({
    '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject; sp=quarantine'] },
    '_dmarc.own.example.com': { TXT: ['v=DMARC1; p=none'] },
    '_dmarc.two.example': { TXT: ['v=DMARC1; p=reject', 'v=DMARC1; p=none'] },
    '_dmarc.down.example': { fail: ['TXT'] },
    '_dmarc.spf.example': { TXT: ['v=spf1 -all', 'v=DMARC1; p=quarantine'] },
  });
  const dns = () => mailauthResolver(zone);

  it('uses sp for a subdomain whose record is at the organizational domain', async () => {
    expect(await discoverDmarc('example.com', dns())).toMatchObject({ status: 'found', record: { policy: 'reject' } });
    expect(await discoverDmarc('a.b.example.com', dns())).toMatchObject({ status: 'found', record: { policy: 'quarantine' } });
    expect(await discoverDmarc('own.example.com', dns())).toMatchObject({ status: 'found', record: { policy: 'none' } });
  });

  it('finds none for no record or several records, temperror for a failed lookup', async () => {
    expect((await discoverDmarc('nothing.example', dns())).status).toBe('none');
    expect((await discoverDmarc('two.example', dns())).status).toBe('none');
    expect((await discoverDmarc('down.example', dns())).status).toBe('temperror');
    expect(await discoverDmarc('spf.example', dns())).toMatchObject({ status: 'found', record: { policy: 'quarantine' } });
  });
});
