import { createHash, createPublicKey } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientSrvRecords, dnsRecordsForDomain, formatZone, tlsaValue, txtStrings, type DnsRecord } from './dnsrecords.js';
import { mtaStsPolicyId, mtaStsPolicyText, type MtaStsSettings } from './mta-sts-policy.js';
import { generateSelfSigned } from './selfsigned.js';

const STS: MtaStsSettings = { mode: 'testing', mx: ['mail.example.org'], maxAge: 604800 };
const DKIM = `v=DKIM1; k=rsa; p=${'A'.repeat(392)}`;

/** Reads the character-strings of a zone-file TXT rdata back into one value. */
function unquote(rdata: string): string[] {
  return [...rdata.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => (m[1] ?? '').replace(/\\(.)/g, '$1'));
}

describe('dnsRecordsForDomain', () => {
  it('lists MX, SPF, DKIM, DMARC, MTA-STS and TLS-RPT', () => {
    const records = dnsRecordsForDomain({ domain: 'Example.org', hostname: 'mail.example.org', dkimSelector: 'postern', dkimValue: DKIM, mtaSts: STS });
    expect(records).toEqual([
      { name: 'example.org', type: 'MX', value: '10 mail.example.org.' },
      { name: 'example.org', type: 'TXT', value: 'v=spf1 mx -all' },
      { name: 'postern._domainkey.example.org', type: 'TXT', value: DKIM },
      { name: '_dmarc.example.org', type: 'TXT', value: 'v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.org; adkim=s; aspf=s' },
      { name: '_mta-sts.example.org', type: 'TXT', value: `v=STSv1; id=${mtaStsPolicyId(mtaStsPolicyText(STS))}` },
      { name: 'mta-sts.example.org', type: 'CNAME', value: 'mail.example.org.' },
      { name: '_smtp._tls.example.org', type: 'TXT', value: 'v=TLSRPTv1; rua=mailto:tls-reports@example.org' },
    ]);
  });

  it('publishes every DKIM key of the domain once, as during a rotation', () => {
    const other = `v=DKIM1; k=ed25519; p=${'B'.repeat(44)}`;
    const records = dnsRecordsForDomain({ domain: 'example.org', hostname: 'mail.example.org', dkimSelector: 'postern', dkimValue: DKIM, dkimKeys: [{ selector: 'postern', value: DKIM }, { selector: 's20261204', value: other }] });
    expect(records.filter((r) => r.name.includes('._domainkey.'))).toEqual([
      { name: 'postern._domainkey.example.org', type: 'TXT', value: DKIM },
      { name: 's20261204._domainkey.example.org', type: 'TXT', value: other },
    ]);
    expect(dnsRecordsForDomain({ domain: 'example.org', hostname: 'mail.example.org' }).some((r) => r.name.includes('._domainkey.'))).toBe(false);
  });

  it('adds a DANE-EE TLSA record with the SHA-256 of the certificate key', async () => {
    const { certPem, keyPem } = await generateSelfSigned({ hostname: 'mail.example.org' });
    const records = dnsRecordsForDomain({ domain: 'example.org', hostname: 'mail.example.org', dkimSelector: 'postern', dkimValue: DKIM, tlsCertPem: certPem });
    const spki = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
    const expected = `3 1 1 ${createHash('sha256').update(spki).digest('hex')}`;
    expect(records.at(-1)).toEqual({ name: '_25._tcp.mail.example.org', type: 'TLSA', value: expected });
    expect(tlsaValue(certPem)).toBe(expected);
    // A different certificate key gives a different record.
    const other = await generateSelfSigned({ hostname: 'mail.example.org' });
    expect(tlsaValue(other.certPem)).not.toBe(expected);
  });

  it('gives the MTA-STS record an id that changes exactly when the served policy does', () => {
    const id = (s: MtaStsSettings) => dnsRecordsForDomain({ domain: 'example.org', hostname: 'mail.example.org', dkimSelector: 'postern', dkimValue: DKIM, mtaSts: s }).find((r) => r.name === '_mta-sts.example.org')?.value;
    expect(id(STS)).toMatch(/^v=STSv1; id=[0-9a-f]{20}$/);
    expect(id({ ...STS })).toBe(id(STS));
    for (const changed of [{ ...STS, mode: 'enforce' as const }, { ...STS, maxAge: 86400 }, { ...STS, mx: ['mail.example.org', 'mx2.example.org'] }]) expect(id(changed)).not.toBe(id(STS));
    expect(dnsRecordsForDomain({ domain: 'example.org', hostname: 'mail.example.org', dkimSelector: 'postern', dkimValue: DKIM }).some((r) => r.name.startsWith('_mta-sts.'))).toBe(false);
  });

  it('announces listening client services by SRV and the plain ones as not offered', () => {
    expect(clientSrvRecords('example.org', 'mail.example.org', { imaps: 993, submissions: 465, submission: 587 })).toEqual([
      { name: '_imaps._tcp.example.org', type: 'SRV', value: '0 1 993 mail.example.org.' },
      { name: '_imap._tcp.example.org', type: 'SRV', value: '0 0 0 .' },
      { name: '_pop3s._tcp.example.org', type: 'SRV', value: '0 0 0 .' },
      { name: '_pop3._tcp.example.org', type: 'SRV', value: '0 0 0 .' },
      { name: '_submissions._tcp.example.org', type: 'SRV', value: '0 1 465 mail.example.org.' },
      { name: '_submission._tcp.example.org', type: 'SRV', value: '10 1 587 mail.example.org.' },
    ]);
    const all = dnsRecordsForDomain({ domain: 'example.org', hostname: 'mail.example.org', dkimSelector: 'postern', dkimValue: DKIM, clientPorts: { imaps: 993 } });
    expect(all.at(-1)).toEqual({ name: 'autoconfig.example.org', type: 'CNAME', value: 'mail.example.org.' });
    expect(formatZone(clientSrvRecords('example.org', 'mail.example.org', { pop3s: 995 }))).toContain('_pop3s._tcp.example.org.\t3600\tIN\tSRV\t10 1 995 mail.example.org.\n');
  });

  it('refuses names that would break the zone', () => {
    const base = { domain: 'example.org', hostname: 'mail.example.org', dkimSelector: 'postern', dkimValue: DKIM };
    expect(() => dnsRecordsForDomain({ ...base, domain: 'example.org\n@ IN NS evil.' })).toThrow(RangeError);
    expect(() => dnsRecordsForDomain({ ...base, hostname: 'mail example.org' })).toThrow(RangeError);
    expect(() => dnsRecordsForDomain({ ...base, dkimSelector: 'a"b' })).toThrow(RangeError);
    expect(() => dnsRecordsForDomain({ ...base, dmarcReportLocalPart: 'a; p=none' })).toThrow(RangeError);
    expect(dnsRecordsForDomain({ ...base, dmarcReportLocalPart: 'reports' }).find((r) => r.name === '_dmarc.example.org')?.value).toMatch(/rua=mailto:reports@example.org;/);
  });
});

describe('txtStrings', () => {
  it('splits into strings of at most 255 bytes that join back to the value', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 1200, unit: 'grapheme' }), (value) => {
        const parts = txtStrings(value);
        expect(parts.join('')).toBe(value);
        for (const p of parts) expect(Buffer.byteLength(p, 'utf8')).toBeLessThanOrEqual(255);
        expect(parts.length).toBeGreaterThanOrEqual(1);
      }),
    );
  });

  it('cuts a DKIM value at exactly 255 bytes', () => {
    const parts = txtStrings(DKIM);
    expect(parts.map((p) => p.length)).toEqual([255, DKIM.length - 255]);
  });
});

describe('formatZone', () => {
  it('writes one absolute line per record and splits long TXT values', () => {
    const zone = formatZone(dnsRecordsForDomain({ domain: 'example.org', hostname: 'mail.example.org', dkimSelector: 'postern', dkimValue: DKIM, mtaSts: STS }));
    const lines = zone.trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe('example.org.\t3600\tIN\tMX\t10 mail.example.org.');
    expect(lines[1]).toBe('example.org.\t3600\tIN\tTXT\t"v=spf1 mx -all"');
    const dkim = lines[2]?.split('\t') ?? [];
    expect(dkim.slice(0, 4)).toEqual(['postern._domainkey.example.org.', '3600', 'IN', 'TXT']);
    const strings = unquote(dkim[4] ?? '');
    expect(strings).toHaveLength(2);
    expect(strings.join('')).toBe(DKIM);
  });

  it('escapes quotes and backslashes so the value reads back unchanged', () => {
    const record: DnsRecord = { name: 'x.example.org', type: 'TXT', value: 'say "hi" \\ bye' };
    const rdata = formatZone([record], 60).trimEnd().split('\t')[4] ?? '';
    expect(unquote(rdata).join('')).toBe(record.value);
  });

  it('refuses control characters', () => {
    expect(() => formatZone([{ name: 'x.example.org', type: 'TXT', value: 'a\nb' }])).toThrow(RangeError);
  });
});
