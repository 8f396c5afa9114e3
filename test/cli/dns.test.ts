/**
 * `postern dns` as an administrator runs it (the built dist): the records of
 * a freshly init'd installation, the same as init printed and each one
 * well-formed, then `--check` against a loopback DNS server serving that
 * zone with one record left out and one changed, and serving all of it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsRecord } from '../../src/crypto/dnsrecords.js';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';
import { parseSpf } from '../../src/posture/spf.js';
import { parseDmarc, parseMtaSts, parseTlsRpt } from '../../src/posture/tags.js';
import { parseZoneText, zoneOf } from '../support/dns-zone.js';
import { MAIN } from '../process/postern-process.js';

const DOMAIN = 'example.test';
const HOST = `mail.${DOMAIN}`;
let dir: string;
let inst: { config: string };
let zone: ZoneServer;
let initZone: string;

beforeAll(async () => {
  zone = await new ZoneServer({}).start();
  dir = mkdtempSync(path.join(tmpdir(), 'postern-dns-cli-'));
  const init = spawnSync(process.execPath, [MAIN, 'init', '--domain', DOMAIN, '--dir', dir], { encoding: 'utf8', timeout: 60_000 });
  if (init.status !== 0) throw new Error(`postern init failed: ${init.stderr}`);
  initZone = init.stdout.slice(init.stdout.indexOf(`; DNS records for ${DOMAIN}`), init.stdout.indexOf('\n\n', init.stdout.indexOf('; DNS records')) + 1);
  // The checks ask the loopback zone server, as [delivery] resolver.
  const config = path.join(dir, 'postern.toml');
  const text = readFileSync(config, 'utf8');
  expect(text).toMatch(/^resolver = ""$/m);
  writeFileSync(config, text.replace(/^resolver = ""$/m, `resolver = "${zone.address}"`).replace(/^resolver_timeout = \d+$/m, 'resolver_timeout = 3'));
  inst = { config };
}, 120_000);

afterAll(async () => {
  await zone?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The command without blocking this process: the zone server it asks answers from here. */
function cliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, '-c', inst.config, ...args], { encoding: 'utf8', timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** What `postern dns` printed in the first test. */
let printed: DnsRecord[] = [];

describe('postern dns', () => {
  it('prints the records init printed, each one well-formed; JSON for one domain; refuses a domain that is not local', async () => {
    const [r, json, other] = await Promise.all([cliAsync(['dns']), cliAsync(['dns', '--json', '--domain', DOMAIN.toUpperCase()]), cliAsync(['dns', '--domain', 'elsewhere.example'])]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(initZone.trim());
    const records = parseZoneText(r.stdout);
    printed = records;
    const txt = (name: string) => records.filter((x) => x.name === name && x.type === 'TXT').map((x) => x.value);
    expect(records.filter((x) => x.type === 'MX')).toEqual([{ name: DOMAIN, type: 'MX', value: `10 ${HOST}.` }]);
    expect(parseSpf(txt(DOMAIN)[0]!)).toMatchObject({ ok: true });
    expect(parseDmarc(txt(`_dmarc.${DOMAIN}`)[0]!)).toMatchObject({ ok: true, value: { p: 'quarantine', rua: [`mailto:dmarc-reports@${DOMAIN}`] } });
    expect(parseTlsRpt(txt(`_smtp._tls.${DOMAIN}`)[0]!)).toMatchObject({ ok: true });
    expect(parseMtaSts(txt(`_mta-sts.${DOMAIN}`)[0]!)).toMatchObject({ ok: true });
    expect(txt(`postern._domainkey.${DOMAIN}`)[0]).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    expect(records.filter((x) => x.type === 'SRV').map((x) => x.name)).toEqual(['imaps', 'imap', 'pop3s', 'pop3', 'submissions', 'submission'].map((s) => `_${s}._tcp.${DOMAIN}`));

    // The TLSA record pins the certificate's key as OpenSSL computes it.
    const sha = spawnSync('sh', ['-c', `openssl x509 -in "${path.join(dir, 'tls/cert.pem')}" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r`], { encoding: 'utf8' });
    expect(sha.status).toBe(0);
    const hash = sha.stdout.split(' ')[0]!;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(records.find((x) => x.type === 'TLSA')).toEqual({ name: `_25._tcp.${HOST}`, type: 'TLSA', value: `3 1 1 ${hash}` });

    const parsed = JSON.parse(json.stdout) as { domains: { domain: string; records: DnsRecord[] }[] };
    expect(parsed.domains.map((d) => d.domain)).toEqual([DOMAIN]);
    expect(parsed.domains[0]!.records).toEqual(records);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/elsewhere.example is not a local domain/);

  });

  it('--check names the missing and the different record, and passes the full zone', async () => {
    const records = printed;
    expect(records.length).toBeGreaterThan(10);
    const dmarc = `_dmarc.${DOMAIN}`;
    const changed = records.filter((x) => x.name !== dmarc).map((x) => (x.name === DOMAIN && x.type === 'TXT' ? { ...x, value: 'v=spf1 ip4:198.51.100.7 -all' } : x));
    for (const [n, e] of Object.entries(zoneOf(changed, { [HOST]: { A: ['127.0.0.1'] } }))) zone.zone.set(n, e);

    const bad = await cliAsync(['dns', '--check']);
    expect(bad.stderr).toBe('');
    expect(bad.status).toBe(1);
    const lines = bad.stdout.split('\n');
    expect(lines).toContain(`missing   ${dmarc} TXT: no DMARC record`);
    const spf = lines.findIndex((l) => l.startsWith(`different ${DOMAIN} TXT: does not authorise ${HOST}`));
    expect(spf).toBeGreaterThanOrEqual(0);
    expect(lines.slice(spf + 1, spf + 3)).toEqual(['          published: v=spf1 ip4:198.51.100.7 -all', '          expected:  v=spf1 mx -all']);
    expect(lines.filter((l) => /^(missing|different|unknown)/.test(l))).toHaveLength(2);
    expect(lines).toContain(`; ${records.length - 2} of ${records.length} records as expected`);

    zone.zone.clear();
    for (const [n, e] of Object.entries(zoneOf(records, { [HOST]: { A: ['127.0.0.1'] } }))) zone.zone.set(n, e);
    const good = await cliAsync(['dns', '--check', '--json']);
    expect(good.status).toBe(0);
    const report = JSON.parse(good.stdout) as { ok: boolean; domains: { checks: { status: string; record: DnsRecord }[] }[] };
    expect(report.ok).toBe(true);
    expect(report.domains[0]!.checks.map((c) => c.status)).toEqual(records.map(() => 'ok'));
  });
});
