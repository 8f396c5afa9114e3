/**
 * dnsChecks over a real configuration, real key files and a real store,
 * with the published zone answered from memory: one grade per record kind.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, renderConfigTemplate, type Config } from '../config/index.js';
import { generateDkimKey } from '../crypto/dkimkey.js';
import type { DnsRecord } from '../crypto/dnsrecords.js';
import { generateSelfSigned } from '../crypto/selfsigned.js';
import type { ZoneEntry } from '../net/dns/memory.js';
import { MemoryResolver } from '../net/dns/memory.js';
import { openStore, type Store } from '../store/index.js';
import { zoneOf } from '../../test/support/dns-zone.js';
import { domainRecords, readDomainKeys } from './dns-expected.js';
import { dnsChecks } from './dns.js';

let dir: string;
let config: Config;
let store: Store;
let records: DnsRecord[];
const HOST_A = { 'mail.example.org': { A: ['192.0.2.25'] } };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'postern-posture-dns-'));
  const parsed = parseConfig(renderConfigTemplate({ hostname: 'mail.example.org', domain: 'example.org', dataDir: 'data' }), dir);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  config = parsed.config;
  const [tls, dkim] = await Promise.all([generateSelfSigned({ hostname: 'mail.example.org' }), generateDkimKey({ algorithm: 'ed25519' })]);
  mkdirSync(path.dirname(config.tls.cert), { recursive: true });
  mkdirSync(config.dkim.key_dir, { recursive: true });
  writeFileSync(config.tls.cert, tls.certPem);
  writeFileSync(path.join(config.dkim.key_dir, `example.org.${config.dkim.selector}.key.pem`), dkim.privateKeyPem);
  store = await openStore({ backend: 'sqlite', dataDir: config.server.data_dir });
  await store.meta.directory.addDomain('example.org', Date.now());
  records = domainRecords(config, 'example.org', await readDomainKeys(config, 'example.org'));
}, 60_000);

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The grades by kind for a zone: the expected records, changed by `edit`. */
async function grades(edit: (zone: Record<string, ZoneEntry>) => void = () => undefined): Promise<Record<string, string>> {
  const zone = zoneOf(records, HOST_A);
  edit(zone);
  const results = await dnsChecks({ config, dns: new MemoryResolver(zone), directory: store.meta.directory });
  for (const r of results) expect(r.id).toBe(`dns.example.org.${r.id.split('.').at(-1)}`);
  return Object.fromEntries(results.map((r) => [r.id.slice('dns.example.org.'.length), r.grade === 'pass' ? 'pass' : `${r.grade}: ${r.reason}`]));
}

const ALL_PASS = { mx: 'pass', spf: 'pass', dkim: 'pass', dmarc: 'pass', 'mta-sts': 'pass', 'tls-rpt': 'pass', tlsa: 'pass', srv: 'pass', autoconfig: 'pass' };

describe('dnsChecks', () => {
  it('passes the zone as postern prints it once the DMARC reports reach a mailbox', async () => {
    // Nobody reads dmarc-reports@ until there is a mailadmin (or an account or alias of that name).
    expect((await grades()).dmarc).toBe('warn: the aggregate reports go to dmarc-reports@example.org, which is no local mailbox');
    await store.meta.directory.addAccount({ address: 'admin@example.org', passwordHash: 'x', roles: ['mailadmin'] }, Date.now());
    expect(await grades()).toEqual(ALL_PASS);
  });

  it('fails what breaks delivery or authentication and warns about the rest', async () => {
    const set = (name: string, entry: ZoneEntry) => (zone: Record<string, ZoneEntry>) => void (zone[name] = entry);
    expect((await grades(set('example.org', { MX: [{ exchange: 'mail.example.org', preference: 10 }] }))).spf).toMatch(/^fail: example.org TXT: missing/);
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`i${i}.example.net`, { TXT: [`v=spf1 ${i < 10 ? `include:i${i + 1}.example.net` : ''} -all`] }]));
    expect(
      (
        await grades((z) => {
          Object.assign(z, eleven);
          z['example.org'] = { ...z['example.org'], TXT: ['v=spf1 mx include:i0.example.net -all'] };
        })
      ).spf,
    ).toMatch(/^fail: .*more than 10 DNS lookups/);
    expect((await grades((z) => void (z['example.org'] = { TXT: z['example.org']!.TXT! }))).mx).toMatch(/^fail: example.org MX: missing/);
    expect((await grades(set('_dmarc.example.org', { TXT: ['v=DMARC1; p=none; rua=mailto:admin@example.org'] }))).dmarc).toMatch(/^fail: .*p=none/);
    expect((await grades(set('_dmarc.example.org', { TXT: ['v=DMARC1; p=reject; rua=mailto:admin@example.org'] }))).dmarc).toBe('pass');
    expect((await grades(set('_dmarc.example.org', { TXT: ['v=DMARC1; p=reject; rua=mailto:nobody@example.org'] }))).dmarc).toMatch(/^warn: .*nobody@example.org, which is no local mailbox/);
    expect((await grades(set(`${config.dkim.selector}._domainkey.example.org`, { TXT: ['v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo='] }))).dkim).toMatch(/^fail: .*another key/);
    expect((await grades(set('_25._tcp.mail.example.org', { TLSA: [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32) }] }))).tlsa).toMatch(/^fail: .*current certificate/);
    const warned = await grades((z) => {
      delete z['_mta-sts.example.org'];
      delete z['_smtp._tls.example.org'];
      delete z['_submission._tcp.example.org'];
      delete z['autoconfig.example.org'];
    });
    expect(warned).toEqual({ ...ALL_PASS, 'mta-sts': expect.stringMatching(/^warn: _mta-sts.example.org TXT: missing/), 'tls-rpt': expect.stringMatching(/^warn: /), srv: expect.stringMatching(/^warn: _submission._tcp/), autoconfig: expect.stringMatching(/^warn: /) });
    // The autoconfig host may have address records of its own, if they are the mail host's.
    expect((await grades(set('autoconfig.example.org', { A: ['192.0.2.25'] }))).autoconfig).toBe('pass');
  });

  it('says when the resolver does not answer', async () => {
    const results = await dnsChecks({ config, dns: new MemoryResolver({ 'example.org': { fail: ['MX', 'TXT'] } }), directory: store.meta.directory });
    expect(results.find((r) => r.id === 'dns.example.org.mx')).toMatchObject({ grade: 'warn', reason: expect.stringMatching(/no answer: MX example.org: SERVFAIL/) });
  });

  it('fails a local domain that has no DKIM key to publish', async () => {
    await store.meta.directory.addDomain('nokey.example', Date.now());
    const results = await dnsChecks({ config, dns: new MemoryResolver(zoneOf(records, HOST_A)), directory: store.meta.directory });
    expect(results.find((r) => r.id === 'dns.nokey.example.dkim')).toMatchObject({ grade: 'fail', reason: expect.stringMatching(/no DKIM record to publish \(no DKIM key for nokey.example in /), fix: 'postern dkim rotate --domain nokey.example --activate' });
    expect(results.find((r) => r.id === 'dns.example.org.dkim')?.grade).toBe('pass');
  });
});
