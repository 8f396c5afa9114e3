/**
 * The console's own-account pages, the Apple Mail profile and the security
 * views, in one process: postern's IMAP listeners and its admin HTTPS
 * listener over one SQLite store, driven by node:https with a cookie jar,
 * Python's imaplib (the password change holds for mail) and plistlib (the
 * profile is what Apple documents), and openssl for a certificate.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminListener, type AdminListener } from '../../src/admin/server.js';
import type { ListenerInfo } from '../../src/admin/app.js';
import { totpCode, TOTP_STEP_MS } from '../../src/admin/console/codes.js';
import { hashPassword } from '../../src/crypto/password.js';
import { Directory } from '../../src/directory/directory.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { PosternMetrics } from '../../src/metrics/prometheus.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from '../../src/net/throttle.js';
import { systemClock } from '../../src/core/clock.js';
import type { Role } from '../../src/store/types.js';
import { startHarness, type Harness } from '../imap/harness.js';
import type { Installation } from '../process/postern-process.js';
import { run } from '../support/procs.js';
import { ConsoleClient, unbase32 } from './console-helpers.js';

const DOMAIN = 'example.test';
const PW = 'correct horse battery staple';
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const CAROL = `carol@${DOMAIN}`;
const ADMIN = `admin@${DOMAIN}`;
const AUDITOR = `audit@${DOMAIN}`;
const HOUR = 3_600_000;
/** Bob's name has XML's special characters: the profile must still parse and carry it as typed. */
const DISPLAY_NAMES: Record<string, string> = { [ALICE]: 'Alice Example', [BOB]: '<Bob & "Co"> ]]>' };
const DAY = 24 * HOUR;

let h: Harness;
let admin: AdminListener;
let inst: Installation;
/** The console's clock runs ahead by whole TOTP steps, so each second-factor login gets a step of its own. */
let offset = 0;
const clock = { now: () => Date.now() + offset };
let listeners: ListenerInfo[] = [];
const totps = new Map<string, Uint8Array>();

const imapsListener = (): ListenerInfo => ({ name: 'imaps', address: '127.0.0.1', port: h.ports.tls, tls: 'implicit' });

async function addAccount(address: string, roles: Role[], password = PW): Promise<void> {
  await h.store.meta.directory.addAccount({ address, passwordHash: await hashPassword(password), roles, displayName: DISPLAY_NAMES[address] ?? '' }, Date.now());
}

/** Password, then (for an account with TOTP) a code of a step nobody used yet. */
async function login(address: string, password = PW): Promise<ConsoleClient> {
  const c = new ConsoleClient(inst);
  const r = await c.login(address, password);
  expect(r.status, r.body).toBe(303);
  const secret = totps.get(address);
  if (secret) {
    expect(r.headers.location).toBe('/console/factor');
    offset += TOTP_STEP_MS;
    const ok = await c.post('/console/factor', '/console/totp', { code: totpCode(secret, Math.floor(clock.now() / TOTP_STEP_MS)) });
    expect(ok.status, ok.body).toBe(303);
  }
  return c;
}

const PY_IMAP = String.raw`
import imaplib, json, os, ssl
ctx = ssl.create_default_context(cafile=os.environ['CA'])
out = {}
for name in ('old', 'new'):
    m = imaplib.IMAP4_SSL('127.0.0.1', int(os.environ['PORT']), ssl_context=ctx, timeout=30)
    try:
        m.login(os.environ['USER_ADDR'], os.environ[name.upper()])
        out[name] = 'ok'
        m.logout()
    except imaplib.IMAP4.error as e:
        out[name] = 'refused: ' + str(e)
print(json.dumps(out))
`;

const PY_PLIST = String.raw`
import json, plistlib, sys
p = plistlib.loads(sys.stdin.buffer.read())
print(json.dumps(p))
`;

async function auditRows(action: string, actor?: string) {
  return (await h.store.meta.audit.list({ since: 0, limit: 10_000 })).filter((r) => r.action === action && (actor === undefined || r.actor === actor));
}

beforeAll(async () => {
  h = await startHarness();
  mkdirSync(path.join(h.dir, 'tls'));
  writeFileSync(path.join(h.dir, 'tls', 'cert.pem'), h.ca);
  for (const [a, roles] of [[ALICE, ['user']], [BOB, ['user']], [CAROL, ['user']], [ADMIN, ['mailadmin']], [AUDITOR, ['auditor']]] as const) await addAccount(a, [...roles]);
  for (const a of [ADMIN, AUDITOR]) {
    const secret = new Uint8Array(randomBytes(20));
    await h.store.meta.factors.setTotp(a, secret, Date.now());
    totps.set(a, secret);
  }
  listeners = [imapsListener(), { name: 'smtp submissions', address: '127.0.0.1', port: 4465, tls: 'implicit' }, { name: 'smtp submission', address: '127.0.0.1', port: 4587, tls: 'starttls' }];
  const directory = new Directory(h.store.meta.directory);
  admin = await startAdminListener(
    { address: '127.0.0.1', port: 0, tls: h.deps.tls, hostname: 'mail.example.test' },
    {
      metrics: new PosternMetrics({ processMetrics: false }),
      meta: h.store.meta,
      node: 'test',
      listeners: () => listeners,
      clock,
      log: silentLogger(),
      console: {
        store: h.store,
        authenticate: (a, p) => directory.authenticate(a, p),
        throttle: new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, maxSourceFailures: 6, delayMinMs: 10, delayMaxMs: 2000 }, systemClock),
        releaseRoles: ['mailadmin'],
        slaTargetPct: 99.9,
      },
    },
    { token: null, ca: null },
  );
  // ConsoleClient needs only the admin port and the folder holding tls/cert.pem.
  inst = { dir: h.dir, ports: { admin: admin.port } } as unknown as Installation;
}, 60_000);

afterAll(async () => {
  await admin?.close();
  await h?.close();
});

describe('my account', () => {
  it('is open to a plain user, who is refused the security views (and the refusal is audited)', async () => {
    const c = await login(ALICE);
    const page = await c.get('/console/account');
    expect(page.status).toBe(200);
    expect(page.body).toContain('href="/console/account"');
    expect(page.body).not.toContain('href="/console/security/integrity"');
    expect(page.body).toContain('No second factor is registered');
    expect(page.body).toContain('No certificate is known for this address');
    for (const p of ['/console/security/integrity', '/console/security/spoofing', '/console/security/confidential']) {
      const r = await c.get(p);
      expect(r.status).toBe(403);
      expect(r.body).toContain('mailadmin, auditor');
    }
    const refused = await auditRows('console.refused', ALICE);
    expect(refused.map((r) => r.subject)).toEqual(expect.arrayContaining(['/console/security/integrity', '/console/security/spoofing', '/console/security/confidential']));
    // Not logged in: the page sends to the login.
    const anon = new ConsoleClient(inst);
    expect((await anon.get('/console/account')).headers.location).toBe('/console/login');
  });

  it('refuses a password change without the CSRF token or from another Origin, and changes nothing', async () => {
    const c = await login(BOB);
    const form = { current: PW, password: 'a brand new password 1', again: 'a brand new password 1' };
    const noToken = await c.send('POST', '/console/account/password', { form });
    expect(noToken.status).toBe(403);
    expect(noToken.body).toContain('CSRF');
    const csrf = ConsoleClient.csrf(await c.get('/console/account'));
    expect((await c.send('POST', '/console/account/password', { form: { ...form, csrf }, origin: 'https://evil.test' })).status).toBe(403);
    expect((await c.send('POST', '/console/account/password', { form: { ...form, csrf }, origin: null })).status).toBe(403);
    expect(await h.deps.directory.authenticate(BOB, PW)).not.toBeNull();
  });

  it('changes the password: mail takes the new one at once, refuses the old one, and other sessions end', { timeout: 60_000 }, async () => {
    const NEW = `new password ${randomBytes(6).toString('hex')}`;
    const other = await login(ALICE);
    const c = await login(ALICE);
    const before = c.cookie;
    // Bad forms change nothing.
    expect((await c.post('/console/account', '/console/account/password', { current: 'not my password', password: NEW, again: NEW })).status).toBe(401);
    const differ = await c.post('/console/account', '/console/account/password', { current: PW, password: NEW, again: `${NEW}x` });
    expect(differ.status).toBe(400);
    expect(differ.body).toContain('differ');
    const weak = await c.post('/console/account', '/console/account/password', { current: PW, password: 'short', again: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body).toContain('at least 12 characters');
    expect(await h.deps.directory.authenticate(ALICE, PW)).not.toBeNull();

    const ok = await c.post('/console/account', '/console/account/password', { current: PW, password: NEW, again: NEW });
    expect(ok.status, ok.body).toBe(303);
    expect(ok.headers.location).toBe('/console/account?done=password');
    expect(c.cookie).not.toBe(before); // this session goes on under a new id
    expect((await c.get('/console/account?done=password')).body).toContain('Your password was changed');
    // The other browser is logged out.
    const gone = await other.get('/console/account');
    expect(gone.status).toBe(303);
    expect(gone.headers.location).toBe('/console/login');

    const r = await run('/usr/bin/python3', ['-c', PY_IMAP], {
      env: { CA: h.caFile, PORT: String(h.ports.tls), USER_ADDR: ALICE, OLD: PW, NEW },
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const imap = JSON.parse(r.stdout) as { old: string; new: string };
    expect(imap.old).toMatch(/^refused: /);
    expect(imap.new).toBe('ok');

    const audited = await auditRows('console.password_change', ALICE);
    expect(audited.map((x) => x.data.result)).toEqual(['refused', 'changed']);
    expect(audited[1]!.data.sessionsEnded).toBe(2); // the other browser here, and the first test's session
    const text = JSON.stringify(await h.store.meta.audit.list({ since: 0, limit: 10_000 }));
    expect(text).not.toContain(NEW);
    expect(text).not.toContain(PW);
    // Back to the old password for the tests that follow, through the same shared rule and hashing.
    await h.deps.directory.setPassword(ALICE, PW);
  });

  it('adds a TOTP factor only after the password is typed again; then the login asks for it', { timeout: 60_000 }, async () => {
    const c = await login(CAROL);
    const page = await c.get('/console/account');
    const csrf = ConsoleClient.csrf(page);
    expect(page.body).not.toContain('data-webauthn="register"');
    // A session left open is not enough to register anything.
    expect((await c.send('POST', '/console/enroll/totp', { form: { csrf } })).status).toBe(401);
    expect((await c.send('POST', '/console/webauthn/register-options', { json: { csrf } })).status).toBe(401);
    expect((await c.post('/console/account', '/console/account/confirm', { password: 'wrong password here' })).status).toBe(401);
    const confirmed = await c.post('/console/account', '/console/account/confirm', { password: PW });
    expect(confirmed.status).toBe(303);
    const ready = await c.get('/console/account?done=confirmed');
    expect(ready.body).toContain('data-webauthn="register"');
    // The security key route of enrollment now answers this logged-in account.
    const opts = await c.send('POST', '/console/webauthn/register-options', { json: { csrf: ConsoleClient.csrf(ready) } });
    expect(opts.status).toBe(200);
    expect(JSON.parse(opts.body)).toMatchObject({ rp: { id: 'mail.example.test' }, user: { name: CAROL } });

    const shown = await c.post('/console/account', '/console/enroll/totp');
    expect(shown.status).toBe(200);
    expect(shown.body).toContain('href="/console/account"'); // still the logged-in frame
    const secret = unbase32(/id="totp-secret">([A-Z2-7]+)</.exec(shown.body)![1]!);
    const done = await c.send('POST', '/console/enroll/totp-confirm', { form: { csrf: ConsoleClient.csrf(shown), code: totpCode(secret, Math.floor(clock.now() / TOTP_STEP_MS)) } });
    expect(done.status, done.body).toBe(303);
    expect(done.headers.location).toBe('/console/account');
    const listed = await c.get('/console/account');
    expect(listed.body).toMatch(/<table id="factors">.*authenticator app \(TOTP\)/);
    // The confirmation is spent.
    expect((await c.send('POST', '/console/enroll/totp', { form: { csrf: ConsoleClient.csrf(listed) } })).status).toBe(401);
    expect((await auditRows('console.factor_add', CAROL)).map((r) => r.data.kind)).toEqual(['totp']);
    expect((await auditRows('console.reauth', CAROL)).map((r) => r.data.result)).toEqual(['refused', 'confirmed']);

    // From now on carol's password alone is not enough.
    totps.set(CAROL, secret);
    const again = await login(CAROL);
    expect((await again.get('/console/account')).status).toBe(200);
  });

  it("downloads the account's own S/MIME certificate as PEM, and no one else's", { timeout: 60_000 }, async () => {
    const der = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=Alice', '-addext', `subjectAltName=email:${ALICE}`, '-days', '30', '-outform', 'DER'], { timeout: 30_000 });
    const fingerprint = createHash('sha256').update(der).digest('hex');
    const now = Date.now();
    await h.store.meta.certificates.put({ address: ALICE, der, fingerprint, source: 'issued', notBefore: now - HOUR, notAfter: now + 30 * DAY }, now);
    const c = await login(ALICE);
    const page = await c.get('/console/account');
    expect(page.body).toContain(`/console/account/certificates/${fingerprint}.pem`);
    expect(page.body).toMatch(/<td>issued<\/td>.*<td>valid<\/td>/);
    const got = await c.get(`/console/account/certificates/${fingerprint}.pem`);
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toMatch(/^application\/x-pem-file/);
    expect(got.headers['content-disposition']).toMatch(/^attachment; filename=".+\.pem"$/);
    const parsed = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: got.body, timeout: 30_000 }).toString();
    expect(parsed.replace(/.*=|:|\s/g, '').toLowerCase()).toBe(fingerprint);
    // Bob has none, and cannot fetch alice's by its fingerprint.
    const bob = await login(BOB);
    expect((await bob.get('/console/account')).body).toContain('No certificate is known');
    expect((await bob.get(`/console/account/certificates/${fingerprint}.pem`)).status).toBe(404);
    expect((await bob.get('/console/account/certificates/..%2F..%2Fetc.pem')).status).toBe(400);
    expect((await auditRows('certificate.download', ALICE)).map((r) => r.data.fingerprint)).toEqual([fingerprint]);
  });
});

describe('Apple Mail profile', () => {
  async function profile(c: ConsoleClient): Promise<Record<string, unknown>> {
    const r = await c.get('/console/mobileconfig');
    expect(r.status, r.body).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-apple-aspen-config');
    expect(r.headers['content-disposition']).toBe('attachment; filename="mail.example.test-mail.mobileconfig"');
    expect(r.body).not.toContain(PW);
    const py = await run('/usr/bin/python3', ['-c', PY_PLIST], { input: r.body, timeoutMs: 30_000 });
    expect(py.code, py.stderr).toBe(0);
    return JSON.parse(py.stdout) as Record<string, unknown>;
  }

  it('is a configuration profile with a com.apple.mail.managed payload: IMAP and SMTP over TLS, the address as user name, no password', async () => {
    const c = await login(ALICE);
    listeners = [imapsListener(), { name: 'smtp submissions', address: '127.0.0.1', port: 4465, tls: 'implicit' }, { name: 'smtp submission', address: '127.0.0.1', port: 4587, tls: 'starttls' }];
    const p = await profile(c);
    expect(p).toMatchObject({ PayloadType: 'Configuration', PayloadVersion: 1, PayloadRemovalDisallowed: false });
    expect(p.PayloadUUID).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    const content = p.PayloadContent as Record<string, unknown>[];
    expect(content).toHaveLength(1);
    const mail = content[0]!;
    expect(mail).toMatchObject({
      PayloadType: 'com.apple.mail.managed',
      PayloadVersion: 1,
      EmailAccountType: 'EmailTypeIMAP',
      EmailAddress: ALICE,
      EmailAccountName: 'Alice Example',
      IncomingMailServerHostName: 'mail.example.test',
      IncomingMailServerPortNumber: h.ports.tls,
      IncomingMailServerUseSSL: true,
      IncomingMailServerUsername: ALICE,
      IncomingMailServerAuthentication: 'EmailAuthPassword',
      OutgoingMailServerHostName: 'mail.example.test',
      OutgoingMailServerPortNumber: 4465,
      OutgoingMailServerUseSSL: true,
      OutgoingMailServerUsername: ALICE,
      OutgoingPasswordSameAsIncomingPassword: true,
    });
    expect(mail.PayloadUUID).toMatch(/^[0-9A-F-]{36}$/);
    expect(mail.PayloadUUID).not.toBe(p.PayloadUUID);
    expect(Object.keys(mail).filter((k) => /password$/i.test(k) && k !== 'OutgoingPasswordSameAsIncomingPassword')).toEqual([]);
    // Downloading again gives the same profile (it replaces, not adds), another account another one.
    expect((await profile(c)).PayloadUUID).toBe(p.PayloadUUID);
    const bob = await profile(await login(BOB));
    expect(bob.PayloadUUID).not.toBe(p.PayloadUUID);
    expect((bob.PayloadContent as Record<string, unknown>[])[0]!.EmailAccountName).toBe(DISPLAY_NAMES[BOB]);
    expect((await auditRows('console.mobileconfig', ALICE)).length).toBeGreaterThanOrEqual(2);
  });

  it('uses STARTTLS submission when implicit TLS is not listening, and refuses when IMAP over TLS is not', async () => {
    const c = await login(ALICE);
    listeners = [imapsListener(), { name: 'smtp submission', address: '127.0.0.1', port: 4587, tls: 'starttls' }];
    const mail = ((await profile(c)).PayloadContent as Record<string, unknown>[])[0]!;
    expect(mail).toMatchObject({ OutgoingMailServerPortNumber: 4587, OutgoingMailServerUseSSL: true });
    listeners = [{ name: 'imap', address: '127.0.0.1', port: h.ports.starttls, tls: 'starttls' }, { name: 'smtp submission', address: '127.0.0.1', port: 4587, tls: 'starttls' }];
    const none = await c.get('/console/mobileconfig');
    expect(none.status).toBe(404);
    expect(none.body).toContain('IMAP over TLS');
    expect((await auditRows('console.mobileconfig', ALICE)).at(-1)!.data.result).toBe('unavailable');
    listeners = [imapsListener()];
    expect((await c.get('/console/mobileconfig')).body).toContain('submission over TLS');
    // Not logged in: no profile.
    expect((await new ConsoleClient(inst).get('/console/mobileconfig')).status).toBe(303);
  });
});

describe('security views', () => {
  beforeAll(async () => {
    const now = Date.now();
    const ev = h.store.meta.events;
    const spoof = (origin: string, detector: string, at: number) => ev.record('spoof.detected', 'q', { origin, detector, result: 'r', action: 'tag' }, at);
    for (let i = 0; i < 3; i++) await spoof('outside', 'lookalike', now - HOUR);
    for (let i = 0; i < 2; i++) await spoof('inside', 'own-domain', now - 2 * HOUR);
    await spoof('outside', 'display-name', now - 3 * DAY); // only in the 7-day view
    for (let i = 0; i < 4; i++) await ev.record('dlp.flow', 'q', { group: 'finance', domain: 'partner.test', rule: 'iban' }, now - HOUR);
    await ev.record('dlp.flow', 'q', { group: 'hr', domain: 'other.test', rule: 'payroll' }, now - 2 * DAY);
    await ev.record('dlp.match', 'q', { rule: 'iban', direction: 'outbound', action: 'tag' }, now - HOUR);
    await ev.record('dlp.message', 'q', { result: 'confidential', direction: 'outbound' }, now - HOUR);
    await ev.record('integrity.corrected', 'blob-a', { area: 'data', block: 7, bit: 3 }, now - HOUR);
    await ev.record('integrity.uncorrectable', 'blob-b', { detail: 'block 2: checksum mismatch' }, now - HOUR);
    await ev.record('integrity.scrub_completed', 'scrub', { clean: false }, now - 5 * HOUR);
    await ev.record('integrity.backup_verified', '/backups/2026-12-04', {}, now - 30 * HOUR);
    await h.store.meta.integrity.markDamaged('blob-b', 'block 2: checksum mismatch', now - HOUR);
  });

  it('shows integrity, spoofing and confidential mail to the mailadmin, with charts', { timeout: 60_000 }, async () => {
    const c = await login(ADMIN);
    expect((await c.get('/console/account')).body).toContain('href="/console/security/integrity"');

    const integrity = await c.get('/console/security/integrity');
    expect(integrity.status).toBe(200);
    expect(integrity.body).toContain('<svg');
    // The console's clock is a few TOTP steps ahead: minutes, never an hour.
    expect(integrity.body).toMatch(/Last full scrub<b>5 h( \d+ m)? ago<\/b>/);
    expect(integrity.body).toMatch(/Last verified backup<b>1 d 6 h ago<\/b>/);
    expect(integrity.body).toMatch(/Bits repaired<b>1<\/b>/);
    expect(integrity.body).toMatch(/Damaged blobs now<b>1<\/b>/);
    expect(integrity.body).toMatch(/<table id="damaged">.*<td>blob-b<\/td>.*checksum mismatch/);
    expect(integrity.body).toMatch(/<table id="integrity-events">.*<td>uncorrectable<\/td><td>blob-b<\/td>.*<td>corrected<\/td><td>blob-a<\/td><td>area data, block 7<\/td>/);

    const spoof = await c.get('/console/security/spoofing');
    expect(spoof.status).toBe(200);
    expect(spoof.body).toMatch(/Spoofed or forged<b>5<\/b>/);
    expect(spoof.body).toMatch(/From outside<b>3<\/b>/);
    expect(spoof.body).toMatch(/From inside<b>2<\/b>/);
    expect(spoof.body).toMatch(/<table id="by-detector"><tr>.*<\/tr><tr><td>lookalike<\/td><td>3<\/td><\/tr><tr><td>own-domain<\/td><td>2<\/td><\/tr><\/table>/);
    expect(spoof.body).toContain('<svg');
    const week = await c.get('/console/security/spoofing?range=7d');
    expect(week.body).toMatch(/Spoofed or forged<b>6<\/b>/);
    expect(week.body).toMatch(/<td>display-name<\/td><td>1<\/td>/);
    expect((await c.get('/console/security/spoofing?range=1y')).status).toBe(400);

    const dlp = await c.get('/console/security/confidential');
    expect(dlp.status).toBe(200);
    expect(dlp.body).toMatch(/<table id="dlp-flows">.*<tr><td>finance<\/td><td>partner\.test<\/td><td>iban<\/td><td>4<\/td><\/tr><\/table>/);
    expect(dlp.body).toMatch(/Confidential<b>1<\/b>/);
    expect(dlp.body).toContain('<svg');
    expect((await c.get('/console/security/confidential?range=7d')).body).toMatch(/<td>hr<\/td><td>other\.test<\/td><td>payroll<\/td><td>1<\/td>/);
  });

  it('shows them to the auditor too', async () => {
    const c = await login(AUDITOR);
    for (const p of ['/console/security/integrity', '/console/security/spoofing', '/console/security/confidential']) expect((await c.get(p)).status).toBe(200);
    expect((await c.get('/console/security')).headers.location).toBe('/console/security/integrity');
  });
});

describe('throttling', () => {
  it('counts wrong current passwords like failed logins: the source is locked out and nothing changes', async () => {
    const c = await login(BOB);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await c.post('/console/account', '/console/account/password', { current: `guess number ${i}`, password: 'another long password', again: 'another long password' })).status);
    }
    const locked = statuses.indexOf(429);
    expect(statuses[0]).toBe(401);
    expect(locked).toBeGreaterThan(0);
    expect(statuses.slice(locked).every((x) => x === 429)).toBe(true);
    // Even the right current password is turned away unchecked now.
    expect((await c.post('/console/account', '/console/account/password', { current: PW, password: 'another long password', again: 'another long password' })).status).toBe(429);
    expect(await h.deps.directory.authenticate(BOB, PW)).not.toBeNull();
  });
});
