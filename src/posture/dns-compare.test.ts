import { describe, expect, it } from 'vitest';
import type { DnsRecord } from '../crypto/dnsrecords.js';
import { compareRecord, recordKind, type Observed } from './dns-compare.js';
import type { SpfAnalysis } from './spf.js';

const CTX = { hostname: 'mail.example.org', activeDkimSelector: 'postern' };
const found = (...values: string[]): Observed => ({ answer: { status: 'found', values } });
const NONE: Observed = { answer: { status: 'none' } };
const SPF_OK: SpfAnalysis = { lookups: 1, authorises: true, all: '-', problems: [] };

const MX: DnsRecord = { name: 'example.org', type: 'MX', value: '10 mail.example.org.' };
const SPF: DnsRecord = { name: 'example.org', type: 'TXT', value: 'v=spf1 mx -all' };
const DKIM: DnsRecord = { name: 'postern._domainkey.example.org', type: 'TXT', value: 'v=DKIM1; k=rsa; p=AAAA' };
const DKIM_NEW: DnsRecord = { name: 's20261204._domainkey.example.org', type: 'TXT', value: 'v=DKIM1; k=rsa; p=BBBB' };
const DMARC: DnsRecord = { name: '_dmarc.example.org', type: 'TXT', value: 'v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.org' };
const STS: DnsRecord = { name: '_mta-sts.example.org', type: 'TXT', value: 'v=STSv1; id=abc123' };
const STS_HOST: DnsRecord = { name: 'mta-sts.example.org', type: 'CNAME', value: 'mail.example.org.' };
const RPT: DnsRecord = { name: '_smtp._tls.example.org', type: 'TXT', value: 'v=TLSRPTv1; rua=mailto:tls-reports@example.org' };
const TLSA: DnsRecord = { name: '_25._tcp.mail.example.org', type: 'TLSA', value: '3 1 1 ab12' };
const SRV: DnsRecord = { name: '_imaps._tcp.example.org', type: 'SRV', value: '0 1 993 mail.example.org.' };
const AUTOCONFIG: DnsRecord = { name: 'autoconfig.example.org', type: 'CNAME', value: 'mail.example.org.' };

const check = (r: DnsRecord, o: Observed) => {
  const c = compareRecord(r, o, CTX);
  return [c.status, c.grade, c.detail];
};

describe('recordKind', () => {
  it('names each record postern publishes', () => {
    expect([MX, SPF, DKIM, DMARC, STS, STS_HOST, RPT, TLSA, SRV, AUTOCONFIG].map(recordKind)).toEqual(['mx', 'spf', 'dkim', 'dmarc', 'mta-sts', 'mta-sts', 'tls-rpt', 'tlsa', 'srv', 'autoconfig']);
  });
});

describe('compareRecord', () => {
  it('grades a missing record by what it is for', () => {
    for (const r of [MX, SPF, DKIM, DMARC]) expect(check(r, NONE)).toEqual(['missing', 'fail', expect.any(String)]);
    for (const r of [STS, STS_HOST, RPT, TLSA, SRV, AUTOCONFIG, DKIM_NEW]) expect(check(r, NONE)).toEqual(['missing', 'warn', expect.any(String)]);
    expect(check(MX, { answer: { status: 'error', reason: 'timeout' } })).toEqual(['unknown', 'warn', 'no answer: timeout']);
  });

  it('MX: ours among others is ok; only others is not', () => {
    expect(check(MX, found('20 backup.example.net.', '10 MAIL.example.org.'))[0]).toBe('ok');
    expect(check(MX, found('10 mx.example.net.'))).toEqual(['different', 'fail', 'no MX points at mail.example.org']);
  });

  it('SPF: one record, parsed, authorising our host, at most 10 lookups, ending in -all or ~all', () => {
    const spf = (a: Partial<SpfAnalysis>, ...values: string[]) => check(SPF, { answer: { status: 'found', values }, spf: { ...SPF_OK, ...a } });
    expect(spf({}, 'google-site-verification=x', 'v=spf1 mx -all')).toEqual(['ok', 'pass', '']);
    expect(spf({ all: '~' }, 'v=spf1 mx ~all')[0]).toBe('ok');
    expect(spf({}, 'v=spf1 mx -all', 'v=spf1 -all').slice(0, 2)).toEqual(['different', 'fail']);
    expect(spf({}, 'v=spf1 mx:')).toEqual(['different', 'fail', 'does not parse: "mx:" does not name a domain']);
    expect(spf({ lookups: 11 }, 'v=spf1 mx -all')).toEqual(['different', 'fail', expect.stringMatching(/more than 10 DNS lookups/)]);
    expect(spf({ authorises: false }, 'v=spf1 ip4:192.0.2.1 -all')).toEqual(['different', 'fail', 'does not authorise mail.example.org']);
    expect(spf({ all: '+' }, 'v=spf1 mx +all')).toEqual(['different', 'warn', expect.stringMatching(/\+all/)]);
    expect(spf({}, 'v=other')).toEqual(['missing', 'fail', 'no SPF record']);
  });

  it('DKIM: the published key must be ours, folded or not', () => {
    expect(check(DKIM, found('v=DKIM1; k=rsa; p=AA AA'))[0]).toBe('ok');
    expect(check(DKIM, found('v=DKIM1; k=rsa; p=CCCC'))).toEqual(['different', 'fail', 'another key: signatures with our key fail']);
    expect(check(DKIM, found('v=DKIM1; p='))[2]).toMatch(/revoked/);
    expect(check(DKIM, found('v=DKIM1; k=ed25519; p=AAAA'))[0]).toBe('different');
  });

  it('DMARC: parsed, p=quarantine or reject, with rua', () => {
    expect(check(DMARC, found('v=DMARC1; p=reject; rua=mailto:x@example.org'))[0]).toBe('ok');
    expect(check(DMARC, found('v=DMARC1; p=none; rua=mailto:x@example.org')).slice(0, 2)).toEqual(['different', 'fail']);
    expect(check(DMARC, found('v=DMARC1; p=reject')).slice(0, 2)).toEqual(['different', 'warn']);
    expect(check(DMARC, found('v=DMARC1; p=reject; pct=10; rua=mailto:x@example.org')).slice(0, 2)).toEqual(['different', 'warn']);
    expect(check(DMARC, found('v=DMARC1; p=bogus')).slice(0, 2)).toEqual(['different', 'fail']);
    expect(check(DMARC, found('v=DMARC1; p=reject', 'v=DMARC1; p=reject')).slice(0, 2)).toEqual(['different', 'fail']);
  });

  it('MTA-STS: the id of the policy served; the policy host an alias of ours or with our addresses', () => {
    expect(check(STS, found('v=STSv1; id=abc123'))[0]).toBe('ok');
    expect(check(STS, found('v=STSv1; id=old1'))).toEqual(['different', 'warn', expect.stringMatching(/id old1 is not the id of the policy served \(abc123\)/)]);
    expect(check(STS_HOST, found('mail.example.org.'))[0]).toBe('ok');
    expect(check(STS_HOST, found('web.example.net.'))[0]).toBe('different');
    expect(check(STS_HOST, { answer: { status: 'none' }, addresses: { status: 'found', values: ['192.0.2.25'] }, hostAddresses: ['192.0.2.25'] })[0]).toBe('ok');
    expect(check(STS_HOST, { answer: { status: 'none' }, addresses: { status: 'found', values: ['198.51.100.1'] }, hostAddresses: ['192.0.2.25'] })[0]).toBe('different');
  });

  it('TLS-RPT, TLSA and SRV', () => {
    expect(check(RPT, found('v=TLSRPTv1; rua=https://r.example.net/'))[0]).toBe('ok');
    expect(check(RPT, found('v=TLSRPTv1;')).slice(0, 2)).toEqual(['different', 'warn']);
    expect(check(TLSA, found('3 1 1 00ff', '3 1 1 AB12'))[0]).toBe('ok');
    expect(check(TLSA, found('3 1 1 00ff')).slice(0, 2)).toEqual(['different', 'fail']);
    expect(check(SRV, found('5 0 993 mail.example.org.'))[0]).toBe('ok');
    expect(check(SRV, found('0 1 143 mail.example.org.'))).toEqual(['different', 'warn', 'expected port 993 on mail.example.org.']);
  });
});
