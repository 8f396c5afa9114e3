/**
 * The console of a real postern process over HTTPS (node:https with the
 * installation's certificate, Python's smtplib for real mail): cookie
 * attributes, the CSP, Origin and CSRF checks, role refusals, enrollment that
 * needs the one-time code, TOTP login without code reuse, quarantine release
 * by the allowed role only, everything in the audit log, and login throttling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { rawExchange } from './helpers.js';
import { ConsoleClient, enrollmentCode, quarantine, sendMail, until, unbase32 } from './console-helpers.js';
import { totpCode, TOTP_STEP_MS } from '../../src/admin/console/codes.js';

const PASSWORD = 'correct horse battery staple';
const ADMIN = 'admin@example.test';
const AUDITOR = 'audit@example.test';
const ALICE = 'alice@example.test';
const BOB = 'bob@example.test';
const CAROL = 'carol@example.test';

let inst: Installation;
let server: ServerProcess;


const step = () => Math.floor(Date.now() / TOTP_STEP_MS);
let adminTotp: { secret: Uint8Array; used: number };

/**
 * A code the server will take: within one step of now and after the last step
 * used (codes are never accepted twice). When the last one used is already
 * the next step, waits for the clock to move on (at most one step).
 */
async function nextCode(t: { secret: Uint8Array; used: number }): Promise<string> {
  for (let i = 0; i < 40 && step() + 1 <= t.used; i++) await new Promise((r) => setTimeout(r, 1000));
  t.used = Math.max(t.used + 1, step() - 1);
  return totpCode(t.secret, t.used);
}

/** Logs in with the password, enters the code, enrolls TOTP; returns the secret and the step used. */
async function enrollTotp(c: ConsoleClient, address: string): Promise<{ secret: Uint8Array; used: number }> {
  const r = await c.login(address, PASSWORD);
  expect(r.status).toBe(303);
  expect(r.headers.location).toBe('/console/enroll');
  expect((await c.post('/console/enroll', '/console/enroll/code', { code: enrollmentCode(inst, address) })).status).toBe(303);
  const shown = await c.post('/console/enroll', '/console/enroll/totp');
  expect(shown.status).toBe(200);
  const secret = unbase32(/id="totp-secret">([A-Z2-7]+)</.exec(shown.body)![1]!);
  const used = step();
  const done = await c.send('POST', '/console/enroll/totp-confirm', { form: { csrf: ConsoleClient.csrf(shown), code: totpCode(secret, used) } });
  expect(done.status, done.body).toBe(303);
  return { secret, used };
}

beforeAll(async () => {
  // release_roles names mailadmin only (the default is auditor): the console follows it like the command line.
  inst = await makeInstallation('example.test', '[auth]\nmax_failures = 10\nlockout = 600\n[policy]\nrelease_roles = ["mailadmin"]\n[policy.attachments]\naction = "quarantine"\n');
  for (const [addr, args] of [
    [ADMIN, ['--role', 'mailadmin']],
    [AUDITOR, ['--role', 'auditor']],
    [ALICE, []],
    [BOB, ['--role', 'mailadmin']],
    [CAROL, []],
  ] as const) {
    const r = cli(inst, ['user', 'add', addr, ...args], `${PASSWORD}\n`);
    expect(r.status, r.stderr).toBe(0);
  }
  server = await startServer(inst);
}, 120_000);

afterAll(async () => {
  await server?.kill('SIGTERM');
  inst?.cleanup();
});

describe('console over HTTPS', () => {
  it('answers plain HTTP on its port with no content', async () => {
    const r = await rawExchange(inst.ports.admin!, `GET /console/login HTTP/1.1\r\nHost: mail.example.test\r\n\r\n`);
    expect(r.data.toString('latin1')).not.toMatch(/HTTP\/1\.[01] \d|<form|csrf/);
  });

  it('sets a __Host- session cookie that is Secure, HttpOnly and SameSite=Strict, with a CSP allowing only its own script', async () => {
    const c = new ConsoleClient(inst);
    const r = await c.get('/console/login');
    expect(r.status).toBe(200);
    const set = (r.headers['set-cookie'] as string[])[0]!;
    expect(set).toMatch(/^__Host-postern-session=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
    // Under no-referrer browsers post forms with "Origin: null", which the console refuses.
    expect(r.headers['referrer-policy']).toBe('same-origin');
    expect(r.body).not.toMatch(/<script>|<script [^>]*>[^<]/); // no inline script
    const js = await c.get('/console/static/console.js');
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.body).toContain('navigator.credentials');
  });

  it('refuses a POST without the CSRF token, with a wrong one, and from another or no Origin', async () => {
    const c = new ConsoleClient(inst);
    const page = await c.get('/console/login');
    const csrf = ConsoleClient.csrf(page);
    const form = { address: ALICE, password: PASSWORD };
    const noToken = await c.send('POST', '/console/login', { form });
    expect(noToken.status).toBe(403);
    expect(noToken.body).toContain('CSRF');
    expect((await c.send('POST', '/console/login', { form: { ...form, csrf: csrf.replace(/^./, (x) => (x === 'A' ? 'B' : 'A')) } })).status).toBe(403);
    expect((await c.send('POST', '/console/login', { form: { ...form, csrf }, origin: 'https://evil.test' })).status).toBe(403);
    expect((await c.send('POST', '/console/login', { form: { ...form, csrf }, origin: null })).status).toBe(403);
    // Another session's token does not fit this session.
    const other = new ConsoleClient(inst);
    const otherCsrf = ConsoleClient.csrf(await other.get('/console/login'));
    expect((await c.send('POST', '/console/login', { form: { ...form, csrf: otherCsrf } })).status).toBe(403);
    const ok = await c.send('POST', '/console/login', { form: { ...form, csrf } });
    expect(ok.status).toBe(303);
  });

  it('logs a plain user in with the password alone and refuses the administrator pages', async () => {
    const c = new ConsoleClient(inst);
    const before = c.cookie;
    const r = await c.login(ALICE, PASSWORD);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/console/quarantine');
    expect(c.cookie).not.toBe(before); // a new id after login
    expect((await c.get('/console/quarantine')).status).toBe(200);
    expect((await c.get('/console/overview')).status).toBe(403);
    expect((await c.get('/console/audit')).status).toBe(403);
    expect((await c.get('/console/queue')).status).toBe(403);
    const wrong = await c.login(ALICE, 'not the password');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('Wrong address or password');
  });

  it('lets an administrator without a factor only enroll, and only with the code', async () => {
    const c = new ConsoleClient(inst);
    const r = await c.login(BOB, PASSWORD);
    expect(r.headers.location).toBe('/console/enroll');
    // The password alone opens nothing and registers nothing.
    expect((await c.get('/console/overview')).status).toBe(303);
    const page = await c.get('/console/enroll');
    const csrf = ConsoleClient.csrf(page);
    expect((await c.send('POST', '/console/webauthn/register-options', { json: { csrf } })).status).toBe(401);
    expect((await c.send('POST', '/console/enroll/totp', { form: { csrf } })).status).toBe(401);
    expect((await c.send('POST', '/console/enroll/code', { form: { csrf, code: 'AAAA-BBBB-CCCC-DDDD-EEEE' } })).status).toBe(401);
    // A code printed for someone else does not work for bob.
    expect((await c.send('POST', '/console/enroll/code', { form: { csrf, code: enrollmentCode(inst, ADMIN) } })).status).toBe(401);
    const code = enrollmentCode(inst, BOB);
    expect((await c.send('POST', '/console/enroll/code', { form: { csrf, code: code.toLowerCase() } })).status).toBe(303);
    const opts = await c.send('POST', '/console/webauthn/register-options', { json: { csrf } });
    expect(opts.status).toBe(200);
    expect(JSON.parse(opts.body)).toMatchObject({ rp: { id: 'mail.example.test', name: 'postern' }, attestation: 'none' });
    // The code works once: a second session with the same code is refused.
    const again = new ConsoleClient(inst);
    await again.login(BOB, PASSWORD);
    expect((await again.post('/console/enroll', '/console/enroll/code', { code })).status).toBe(401);
    const plain = cli(inst, ['console', 'enroll', ALICE]);
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toContain('no administrator role');
    const log = cli(inst, ['audit-log', 'show', '--json']);
    expect(log.stdout).toContain('console.enroll');
  });

  it('enrolls TOTP, then logs in with a fresh code and never accepts a code twice', { timeout: 120_000 }, async () => {
    const c = new ConsoleClient(inst);
    adminTotp = await enrollTotp(c, ADMIN);
    const { secret, used } = adminTotp;
    const overview = await c.get('/console/overview');
    expect(overview.status).toBe(200);
    expect(overview.body).toContain('<svg');
    expect((await c.get('/console/audit')).status).toBe(403); // a mailadmin is not an auditor
    expect((await c.post('/console/overview', '/console/logout')).status).toBe(303);
    expect((await c.get('/console/overview')).status).toBe(303);

    const r = await c.login(ADMIN, PASSWORD);
    expect(r.headers.location).toBe('/console/factor');
    expect((await c.get('/console/overview')).status).toBe(303); // the password alone is not enough
    const reused = await c.post('/console/factor', '/console/totp', { code: totpCode(secret, used) });
    expect(reused.status).toBe(401);
    const fresh = await c.post('/console/factor', '/console/totp', { code: await nextCode(adminTotp) });
    expect(fresh.status, fresh.body).toBe(303);
    expect((await c.get('/console/overview')).status).toBe(200);
  });

  it('lets the mailadmin release quarantined mail, refuses the auditor and the recipient, and the auditor finds it in the audit log', { timeout: 120_000 }, async () => {
    await sendMail(inst, { from: 'sender@remote.test', to: ALICE, subject: 'invoice attached', attach: 'invoice.exe' });
    const held = await until('a held message', 20_000, () => quarantine(inst).find((q) => q.state === 'held'));
    expect(held.recipients).toEqual([ALICE]);

    const auditor = new ConsoleClient(inst);
    await enrollTotp(auditor, AUDITOR);
    const shown = await auditor.get(`/console/quarantine/${held.queueId}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toContain('invoice attached');
    expect(shown.body).not.toContain('id="release"');
    const refused = await auditor.send('POST', `/console/quarantine/${held.queueId}/release`, { form: { csrf: ConsoleClient.csrf(shown) } });
    expect(refused.status).toBe(403);

    const alice = new ConsoleClient(inst);
    await alice.login(ALICE, PASSWORD);
    const list = await alice.get('/console/quarantine');
    expect(list.body).toContain(held.queueId);
    // [policy] release_roles does not name 'user': the recipient may look but not act.
    const own = await alice.get(`/console/quarantine/${held.queueId}`);
    expect((await alice.send('POST', `/console/quarantine/${held.queueId}/release`, { form: { csrf: ConsoleClient.csrf(own) } })).status).toBe(403);
    expect(quarantine(inst).find((q) => q.queueId === held.queueId)?.state).toBe('held');

    const admin = new ConsoleClient(inst);
    const r = await admin.login(ADMIN, PASSWORD);
    expect(r.headers.location).toBe('/console/factor');
    const ok = await admin.post('/console/factor', '/console/totp', { code: await nextCode(adminTotp) });
    expect(ok.status, ok.body).toBe(303);
    const queue = await admin.get('/console/queue');
    expect(queue.status).toBe(200);
    expect(queue.body).toMatch(/<td>held<\/td><td>1<\/td><td>1<\/td>/); // the held message counts in the queue
    const released = await admin.post(`/console/quarantine/${held.queueId}`, `/console/quarantine/${held.queueId}/release`);
    expect(released.status).toBe(303);
    expect(quarantine(inst).find((q) => q.queueId === held.queueId)).toMatchObject({ state: 'released', actor: ADMIN });

    const log = await auditor.get('/console/audit');
    expect(log.status).toBe(200);
    expect(log.body).toMatch(new RegExp(`<td>${ADMIN.replace('.', '\\.')}</td><td>quarantine\\.release</td><td>${held.queueId}</td>`));
    expect(log.body).toContain('console.refused');
  });

  it('throttles failed logins like IMAP and SMTP: the source is locked out, known sources still get in', async () => {
    const c = new ConsoleClient(inst);
    // Earlier tests failed a few passwords, enrollment codes and TOTP codes from this address; they count too.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await c.login(`nobody${i}@example.test`, 'guess')).status);
    const locked = statuses.indexOf(429);
    expect(statuses[0]).toBe(401);
    expect(locked).toBeGreaterThan(0);
    expect(statuses.slice(0, locked).every((x) => x === 401)).toBe(true);
    expect(statuses.slice(locked).every((x) => x === 429)).toBe(true);
    // Locked out: even the right password of an account never used from here is turned away unchecked.
    expect((await c.login(CAROL, PASSWORD)).status).toBe(429);
    // alice logged in from here before: a known source is not locked out by someone else's failures.
    expect((await c.login(ALICE, PASSWORD)).status).toBe(303);
  });
});
