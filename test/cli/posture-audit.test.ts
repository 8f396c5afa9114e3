/**
 * `postern audit` against real postern processes (dist): a deliberately weak
 * installation (one malware engine, a certificate expiring in 3 days, an
 * account both mailadmin and pkiofficer, a stage failing open) exits 1 and
 * names each finding, records posture.failed and raises the alert (a signed
 * webhook on loopback); the installation `postern init` makes, with a real
 * clamd beside the static engine, exits 0 with warnings only, each with its
 * reason and fix. DNS comes from a loopback zone server per installation
 * serving what `postern dns` prints (the weak one without its DMARC record).
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { Clamd } from '../support/clamd.js';
import { cliIn, DOMAIN, HOST, postureInstallation, type PostureInstallation } from '../posture/installation.js';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';
import { canonicalName } from '../../src/net/dns/types.js';
import { parseZoneText, zoneOf } from '../support/dns-zone.js';
import { openStore } from '../../src/store/index.js';

interface Check {
  id: string;
  area: string;
  grade: 'pass' | 'warn' | 'fail';
  reason: string;
  fix: string;
}
interface Audit {
  summary: { pass: number; warn: number; fail: number };
  checks: Check[];
}

const SECRET = 'a webhook key for the posture audit test';
const start = (i: PostureInstallation) => startServer({ config: i.config } as Installation, 60_000);

let weak: PostureInstallation;
let sound: PostureInstallation;
let weakServer: ServerProcess | undefined;
let soundServer: ServerProcess | undefined;
let clamd: Clamd | undefined;
let receiver: Server;
const hooks: { kind: string; data: Record<string, unknown> }[] = [];
let weakZone: ZoneServer;
let soundZone: ZoneServer;

/** The audit without blocking this process: the zone servers it asks answer from here. */
function audit(i: PostureInstallation): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, '-c', i.config, 'audit', '--json'], { encoding: 'utf8', timeout: 170_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** Serves what `postern dns` prints for the installation, but the names in `without`, and the mail host's address. */
function publish(zone: ZoneServer, i: PostureInstallation, without: readonly string[] = []): void {
  const r = cliIn(i, ['dns']);
  expect(r.status, r.stderr).toBe(0);
  const records = parseZoneText(r.stdout).filter((x) => !without.includes(x.name));
  for (const [n, e] of Object.entries(zoneOf(records, { [HOST]: { A: ['127.0.0.1'] } }))) zone.zone.set(canonicalName(n), e);
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    req.on('end', () => {
      hooks.push(JSON.parse(raw) as { kind: string; data: Record<string, unknown> });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hookPort = (receiver.address() as { port: number }).port;
  clamd = await Clamd.create();
  await clamd.start();
  [weakZone, soundZone] = await Promise.all([new ZoneServer({}).start(), new ZoneServer({}).start()]);
  const resolver = (z: ZoneServer) => `[delivery]\nresolver = "${z.address}"\nresolver_timeout = 3\n`;
  [weak, sound] = await Promise.all([
    postureInstallation(
      `[auth]\nallow_pki_and_mail_admin = true\n` +
        `[policy.spoof]\nfail_open = true\n` +
        // One engine: the static checks alone.
        `[policy.malware]\nenabled = true\n` +
        `[alerts]\nenabled = true\nwebhook_url = "http://127.0.0.1:${hookPort}/hook"\nwebhook_secret_file = "hook.key"\npoll_interval = 1\n` +
        resolver(weakZone),
      { days: 3 },
    ),
    postureInstallation(`[policy.dlp]\nrules = "dlp-rules.toml"\n[policy.malware.clamav]\nsocket = "${clamd.socket}"\n` + resolver(soundZone)),
  ]);
  writeFileSync(path.join(weak.dir, 'hook.key'), `${SECRET}\n`, { mode: 0o600 });
  expect(cliIn(weak, ['user', 'add', `boss@${DOMAIN}`, '--role', 'mailadmin', 'pkiofficer'], 'correct horse battery staple\n').status).toBe(0);
  publish(weakZone, weak, [`_dmarc.${DOMAIN}`]);
  publish(soundZone, sound);
  [weakServer, soundServer] = await Promise.all([start(weak), start(sound)]);
}, 180_000);

afterAll(async () => {
  await Promise.all([weakServer?.kill(), soundServer?.kill()]);
  await clamd?.stop();
  await Promise.all([weakZone?.stop(), soundZone?.stop()]);
  await new Promise((r) => receiver?.close(r));
  weak?.cleanup();
  sound?.cleanup();
});

const byId = (a: Audit, id: string): Check => {
  const c = a.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${a.checks.map((x) => x.id).join(', ')}`);
  return c;
};

describe('postern audit', () => {
  it('fails a weak installation and names each finding', async () => {
    const r = await audit(weak);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const a = JSON.parse(r.stdout) as Audit;
    expect(byId(a, 'tls.certificate.expiry')).toMatchObject({ grade: 'fail', reason: expect.stringMatching(/expires in [0-3] day/) as unknown });
    expect(byId(a, 'malware.engines')).toMatchObject({ grade: 'fail', reason: expect.stringContaining('1 malware engine(s) answer (configured: static)') as unknown });
    expect(byId(a, 'roles.separation')).toMatchObject({ grade: 'fail', reason: expect.stringContaining(`boss@${DOMAIN}`) as unknown });
    expect(byId(a, 'roles.separation').reason).toContain('allow_pki_and_mail_admin = true');
    expect(byId(a, 'policy.spoof.fail-open').grade).toBe('fail');
    expect(byId(a, 'policy.spoof.fail-open').fix).toContain('fail_open = false');
    expect(byId(a, `dns.${DOMAIN}.dmarc`)).toMatchObject({ grade: 'fail', reason: expect.stringMatching(/missing|no DMARC/i) as unknown });
    expect(byId(a, `dns.${DOMAIN}.mx`).grade).toBe('pass');
    // What is sound stays sound: the listeners themselves.
    for (const ep of ['mx', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s', 'admin']) expect(byId(a, `tls.${ep}.protocols`).grade).toBe('pass');
    expect(a.summary.fail).toBe(a.checks.filter((c) => c.grade === 'fail').length);

    // The latest result is in the store, and the failure reaches the alert webhook.
    const store = await openStore({ backend: 'sqlite', dataDir: path.join(weak.dir, 'data') });
    try {
      const [audited] = await store.meta.events.list('posture.audited', 1);
      expect(audited?.data).toMatchObject({ fail: a.summary.fail, warn: a.summary.warn, pass: a.summary.pass });
      const [failed] = await store.meta.events.list('posture.failed', 1);
      expect(failed?.data.checks).toEqual(expect.arrayContaining(['tls.certificate.expiry', 'malware.engines', 'roles.separation', 'policy.spoof.fail-open']));
    } finally {
      await store.close();
    }
    const end = Date.now() + 60_000;
    while (!hooks.some((h) => h.kind === 'posture.failed') && Date.now() < end) await new Promise((res) => setTimeout(res, 200));
    expect(hooks.find((h) => h.kind === 'posture.failed')?.data.checks).toContain('malware.engines');
  }, 180_000);

  it('passes the installation postern init makes, with warnings only, each explained', async () => {
    const r = await audit(sound);
    expect(r.stderr).toBe('');
    const a = JSON.parse(r.stdout) as Audit;
    expect(a.checks.filter((c) => c.grade === 'fail')).toEqual([]);
    expect(r.status).toBe(0);
    expect(byId(a, 'malware.engines').reason).toContain('clamav, static');
    expect(byId(a, 'dlp.rules').grade).toBe('pass');
    expect(byId(a, 'auth.imap.before-starttls').grade).toBe('pass');
    expect(byId(a, 'auth.pop3.before-stls').grade).toBe('pass');
    expect(byId(a, 'auth.submission.before-starttls').grade).toBe('pass');
    expect(byId(a, 'auth.http.redirect-only').grade).toBe('pass');
    expect(byId(a, 'outbound.requiretls').grade).toBe('pass');
    const warnings = a.checks.filter((c) => c.grade === 'warn');
    expect(warnings.length).toBeGreaterThan(0);
    for (const w of warnings) {
      expect(w.reason.length, w.id).toBeGreaterThan(10);
      expect(w.fix.length, w.id).toBeGreaterThan(10);
    }
    // The published records match: DNS passes (the DMARC rua warns at most: no mailadmin reads the reports here).
    for (const kind of ['mx', 'spf', 'dkim', 'tlsa', 'mta-sts', 'tls-rpt', 'srv', 'autoconfig']) expect(byId(a, `dns.${DOMAIN}.${kind}`).grade, kind).toBe('pass');
    expect(byId(a, `dns.${DOMAIN}.dmarc`).grade).not.toBe('fail');
    // init's certificate is self-signed: a warning, not a failure.
    expect(byId(a, 'tls.certificate.chain').grade).toBe('warn');
  }, 180_000);

  it('exits 2 on a configuration it cannot read, and on a bad option', () => {
    const r = cliIn({ config: path.join(sound.dir, 'missing.toml') }, ['audit']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('missing.toml');
    expect(cliIn(sound, ['audit', '--timeout', 'soon']).status).toBe(2);
  });
});
