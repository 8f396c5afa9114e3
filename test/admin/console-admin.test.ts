/**
 * The console's administration pages on the in-process console app over a
 * real SQLite store: the queue (show, retry, hold, release, delete),
 * maintenance windows and outages, and the directory (accounts, roles,
 * groups, aliases). Each action lands in the audit log with the logged-in
 * account; a POST without the CSRF token, an auditor acting on the queue, a
 * user opening the directory and a grant of mailadmin with pkiofficer are
 * refused, and the refusals are audited; a disabled account no longer passes
 * the directory's password check that IMAP, POP3 and SMTP use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Hono } from 'hono';
import { createConsoleApp } from '../../src/admin/console/index.js';
import type { ConsoleEnv } from '../../src/admin/console/context.js';
import type { SessionStore } from '../../src/admin/console/sessions.js';
import { systemClock } from '../../src/core/clock.js';
import { newQueueId } from '../../src/core/ids.js';
import { hashPassword } from '../../src/crypto/password.js';
import { Directory } from '../../src/directory/directory.js';
import { createAccount } from '../../src/mailbox/provision.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from '../../src/net/throttle.js';
import { Spool } from '../../src/queue/spool.js';
import { openStore, type FedStore, type Role } from '../../src/store/index.js';

const HOST = 'mail.example.test';
const ORIGIN = `https://${HOST}`;
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a new initial password 7';
const ADMIN = 'admin@example.test';
const AUDITOR = 'audit@example.test';
const ALICE = 'alice@example.test';
const CAROL = 'carol@example.test';

let dir: string;
let store: FedStore;
let directory: Directory;
let app: Hono<ConsoleEnv>;
let sessions: SessionStore;

interface Answer {
  status: number;
  location: string | null;
  body: string;
}

/** A logged-in session of `address` (the login itself is tested in console.test.ts). */
function as(address: string, roles: Role[]): { cookie: string; csrf: string } {
  const s = sessions.rotate(sessions.create(), { stage: 'full', address, roles });
  return { cookie: `__Host-postern-session=${s.id}`, csrf: s.csrf };
}

async function send(who: { cookie: string; csrf: string }, method: 'GET' | 'POST', p: string, form: Record<string, string> = {}, o: { csrf?: boolean } = {}): Promise<Answer> {
  const headers: Record<string, string> = { Host: HOST, Cookie: who.cookie };
  let body: string | undefined;
  if (method === 'POST') {
    headers.Origin = ORIGIN;
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(o.csrf === false ? form : { csrf: who.csrf, ...form }).toString();
  }
  const env = { incoming: { socket: { remoteAddress: '127.0.0.1' } } };
  const r = await app.request(`https://${HOST}${p}`, { method, headers, ...(body !== undefined ? { body } : {}) }, env);
  return { status: r.status, location: r.headers.get('location'), body: await r.text() };
}

async function auditSince(seq: number): Promise<{ actor: string; action: string; subject: string; data: Record<string, unknown> }[]> {
  return (await store.meta.audit.list({ since: 0, limit: 10_000 })).filter((r) => r.seq > seq);
}
const lastSeq = async (): Promise<number> => (await store.meta.audit.list({ since: 0, limit: 10_000 })).at(-1)?.seq ?? 0;

async function enqueue(subject: string): Promise<string> {
  const id = newQueueId();
  await new Spool(store.blobs, store.meta.queue, systemClock).accept({
    queueId: id,
    data: Buffer.from(`From: <alice@example.test>\r\nTo: <bob@dest.test>\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.test>\r\n\r\nHello.\r\n`),
    sender: ALICE,
    recipients: [
      { address: 'bob@dest.test', transport: 'remote' },
      { address: 'dan@dest.test', transport: 'remote' },
    ],
    source: 'submission',
    clientAddress: '127.0.0.1',
    authUser: ALICE,
    meta: {},
  });
  return id;
}
const states = async (id: string) => (await store.meta.queue.listRecipients(id)).map((r) => r.state);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'postern-console-admin-'));
  store = await openStore({ backend: 'sqlite', dataDir: dir });
  const now = Date.now();
  await store.meta.directory.addDomain('example.test', now);
  const hash = await hashPassword(PASSWORD);
  for (const [address, roles] of [
    [ADMIN, ['mailadmin']],
    [AUDITOR, ['auditor']],
    [ALICE, ['user']],
    [CAROL, ['user']],
  ] as const) {
    await createAccount(store.meta, { address, passwordHash: hash, roles: [...roles] }, now);
  }
  directory = new Directory(store.meta.directory);
  ({ app, sessions } = createConsoleApp({
    store,
    authenticate: (a, p) => directory.authenticate(a, p),
    throttle: new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, maxSourceFailures: 1000, delayMinMs: 0 }, systemClock),
    rpId: HOST,
    origins: () => [ORIGIN],
    releaseRoles: ['mailadmin'],
    slaTargetPct: 99.9,
    schedule: { fixed: [], weekly: [{ day: 0, minute: 120, minutes: 60, reason: 'weekly patching' }] },
    clock: systemClock,
    log: silentLogger(),
  }));
}, 60_000);

afterAll(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('console queue pages', () => {
  it('shows one message like postern queue show, and the list links to it', async () => {
    const id = await enqueue('quarterly figures');
    const admin = as(ADMIN, ['mailadmin']);
    const list = await send(admin, 'GET', '/console/queue');
    expect(list.status).toBe(200);
    expect(list.body).toContain(`<a href="/console/queue/${id}">${id}</a>`);
    const seq = await lastSeq();
    const shown = await send(admin, 'GET', `/console/queue/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toContain('quarterly figures');
    expect(shown.body).toContain('<tr><th>Sender</th><td>&#60;alice@example.test&#62;</td></tr>');
    expect(shown.body).toMatch(/<tr><td>bob@dest\.test<\/td><td>remote<\/td><td>queued<\/td><td>0<\/td>/);
    for (const a of ['retry', 'hold', 'release', 'delete']) expect(shown.body).toContain(`id="queue-${a}"`);
    expect(await auditSince(seq)).toMatchObject([{ actor: ADMIN, action: 'queue.show', subject: id, data: { via: 'console', sender: ALICE } }]);
    expect((await send(admin, 'GET', '/console/queue/NOSUCHID')).status).toBe(404);
    expect((await send(admin, 'GET', '/console/queue/bad%20id')).status).toBe(400);
  });

  it('holds, releases, retries and deletes with the command line semantics, each audited with the logged-in account', async () => {
    const id = await enqueue('act on me');
    const admin = as(ADMIN, ['mailadmin']);
    const seq = await lastSeq();
    const hold = await send(admin, 'POST', `/console/queue/${id}/hold`);
    expect(hold.status, hold.body).toBe(303);
    expect(hold.location).toBe(`/console/queue/${id}`);
    expect(await states(id)).toEqual(['held', 'held']);
    expect((await send(admin, 'POST', `/console/queue/${id}/release`)).status).toBe(303);
    expect(await states(id)).toEqual(['queued', 'queued']);
    // A deferred recipient waits; retry makes it due now.
    const later = Date.now() + 3_600_000;
    const leases = (await store.meta.queue.lease({ transport: 'remote', now: Date.now(), leaseMs: 60_000, limit: 100 })).filter((l) => l.message.id === id);
    expect(leases).toHaveLength(2);
    for (const l of leases) await store.meta.queue.defer(l, later, 'try later');
    expect((await store.meta.queue.listRecipients(id)).every((r) => r.state === 'deferred' && r.nextAttemptAt === later)).toBe(true);
    expect((await send(admin, 'POST', `/console/queue/${id}/retry`)).status).toBe(303);
    expect((await store.meta.queue.listRecipients(id)).every((r) => r.nextAttemptAt <= Date.now())).toBe(true);
    const del = await send(admin, 'POST', `/console/queue/${id}/delete`);
    expect(del.location).toBe('/console/queue');
    expect(await store.meta.queue.getMessage(id)).toBeNull();
    expect((await send(admin, 'POST', `/console/queue/${id}/hold`)).status).toBe(404);
    expect((await send(admin, 'POST', `/console/queue/${id}/explode`)).status).toBe(404);
    const log = await auditSince(seq);
    expect(log.map((r) => [r.actor, r.action, r.subject])).toEqual(['hold', 'release', 'retry', 'delete'].map((a) => [ADMIN, `queue.${a}`, id]));
    expect(log[0]!.data).toMatchObject({ recipients: 2, via: 'console' });
    expect(log[3]!.data).toMatchObject({ changed: true });
  });

  it('lets the auditor look but refuses, and audits, a queue action; a POST without the CSRF token changes nothing', async () => {
    const id = await enqueue('look only');
    const auditor = as(AUDITOR, ['auditor']);
    const shown = await send(auditor, 'GET', `/console/queue/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).not.toContain('id="queue-hold"');
    const seq = await lastSeq();
    const refused = await send(auditor, 'POST', `/console/queue/${id}/hold`);
    expect(refused.status).toBe(403);
    expect(await states(id)).toEqual(['queued', 'queued']);
    expect(await auditSince(seq)).toMatchObject([{ actor: AUDITOR, action: 'console.refused', subject: `/console/queue/${id}/hold`, data: { method: 'POST' } }]);

    const admin = as(ADMIN, ['mailadmin']);
    const noToken = await send(admin, 'POST', `/console/queue/${id}/delete`, {}, { csrf: false });
    expect(noToken.status).toBe(403);
    expect(noToken.body).toContain('CSRF');
    expect(await store.meta.queue.getMessage(id)).not.toBeNull();
    expect(await auditSince(seq)).toHaveLength(1);
    expect((await send(as(ALICE, ['user']), 'GET', `/console/queue/${id}`)).status).toBe(403);
  });
});

describe('console maintenance page', () => {
  it('lists declared and scheduled windows and outages, declares a window with a planned end and ends it, audited', async () => {
    const now = Date.now();
    await store.meta.events.record('availability.downtime', 'node-a', { from: now - 7_200_000, to: now - 6_600_000, cause: 'crash' }, now - 6_600_000);
    const admin = as(ADMIN, ['mailadmin']);
    const page = await send(admin, 'GET', '/console/maintenance');
    expect(page.status).toBe(200);
    expect(page.body).toContain('weekly patching');
    expect(page.body).toMatch(/<td>node-a<\/td><td>crash<\/td><td>no<\/td>/);
    expect(page.body).toContain('<td>10 m</td><td>node-a</td>');
    expect(page.body).toContain('id="maintenance-start"');

    const seq = await lastSeq();
    expect((await send(admin, 'POST', '/console/maintenance/start', { reason: 'disk swap', until: '2099-01-01T18:30' })).status).toBe(303);
    const open = await send(admin, 'GET', '/console/maintenance');
    expect(open.body).toContain('open, planned end 2099-01-01 18:30 UTC');
    expect(open.body).toContain('disk swap');
    expect(open.body).toContain('id="maintenance-end"');
    // A second window while one is open: refused like `postern maintenance start`, and the refusal audited.
    const again = await send(admin, 'POST', '/console/maintenance/start', { reason: 'twice' });
    expect(again.status).toBe(403);
    expect(again.body).toContain('a maintenance window is open since');
    expect((await send(admin, 'POST', '/console/maintenance/start', { until: 'tomorrow' })).status).toBe(400);
    expect((await send(as(AUDITOR, ['auditor']), 'POST', '/console/maintenance/end')).status).toBe(403);
    expect((await send(admin, 'POST', '/console/maintenance/end')).status).toBe(303);
    expect((await send(admin, 'POST', '/console/maintenance/end')).status).toBe(403);
    const log = await auditSince(seq);
    expect(log.map((r) => [r.actor, r.action, r.data.result ?? 'done'])).toEqual([
      [ADMIN, 'maintenance.start', 'done'],
      [ADMIN, 'maintenance.start', 'refused'],
      [AUDITOR, 'console.refused', 'done'],
      [ADMIN, 'maintenance.end', 'done'],
      [ADMIN, 'maintenance.end', 'refused'],
    ]);
    expect(log[0]!.data).toMatchObject({ reason: 'disk swap', plannedEnd: Date.parse('2099-01-01T18:30:00Z') });
    const starts = await store.meta.events.list('maintenance.start', 10);
    expect(starts.map((e) => e.data.actor)).toEqual([ADMIN]);
    // The auditor sees the page without the forms.
    const viewed = await send(as(AUDITOR, ['auditor']), 'GET', '/console/maintenance?days=30');
    expect(viewed.status).toBe(200);
    expect(viewed.body).not.toContain('id="maintenance-start"');
  });
});

describe('console directory page', () => {
  it('is for mailadmin only: a user and an auditor are refused, and the refusal audited', async () => {
    const seq = await lastSeq();
    expect((await send(as(ALICE, ['user']), 'GET', '/console/directory')).status).toBe(403);
    expect((await send(as(AUDITOR, ['auditor']), 'POST', '/console/directory/accounts/disable', { address: CAROL })).status).toBe(403);
    expect((await store.meta.directory.getAccount(CAROL))?.disabled).toBe(false);
    expect((await auditSince(seq)).map((r) => [r.actor, r.action, r.subject])).toEqual([
      [ALICE, 'console.refused', '/console/directory'],
      [AUDITOR, 'console.refused', '/console/directory/accounts/disable'],
    ]);
    const admin = as(ADMIN, ['mailadmin']);
    const page = await send(admin, 'GET', '/console/directory');
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<td>${CAROL}</td>`);
    expect(page.body).toContain('href="/console/directory"');
  });

  it('adds an account with an initial password that works and is never audited; refuses a weak one and a duplicate', async () => {
    const admin = as(ADMIN, ['mailadmin']);
    const seq = await lastSeq();
    const added = await send(admin, 'POST', '/console/directory/accounts', { address: 'Dave@Example.test', name: 'Dave', password: NEW_PASSWORD, 'role-user': '1' });
    expect(added.status, added.body).toBe(303);
    expect((await directory.authenticate('dave@example.test', NEW_PASSWORD))?.roles).toEqual(['user']);
    expect((await store.meta.mailboxes.listFolders((await store.meta.directory.getAccount('dave@example.test'))!.id)).map((f) => f.name)).toContain('INBOX');
    const weak = await send(admin, 'POST', '/console/directory/accounts', { address: 'erin@example.test', password: 'short', 'role-user': '1' });
    expect(weak.status).toBe(400);
    expect(weak.body).toContain('at least 12 characters');
    const dup = await send(admin, 'POST', '/console/directory/accounts', { address: 'dave@example.test', password: NEW_PASSWORD });
    expect(dup.status).toBe(400);
    expect(dup.body).toContain('exists already');
    expect((await send(admin, 'POST', '/console/directory/accounts', { address: 'nobody@elsewhere.test', password: NEW_PASSWORD })).status).toBe(404);
    expect((await send(admin, 'POST', '/console/directory/accounts', { address: 'not an address', password: NEW_PASSWORD })).status).toBe(400);
    expect(await store.meta.directory.getAccount('erin@example.test')).toBeNull();
    const log = await auditSince(seq);
    expect(log.map((r) => [r.actor, r.action, r.subject])).toEqual([[ADMIN, 'user.add', 'dave@example.test']]);
    expect(log[0]!.data).toMatchObject({ roles: ['user'], displayName: 'Dave', via: 'console' });
    const everything = JSON.stringify(await store.meta.audit.list({ since: 0, limit: 10_000 }));
    expect(everything).not.toContain(NEW_PASSWORD);
    expect(everything).not.toContain('scrypt');
  });

  it('disables an account so that the directory check of IMAP, POP3 and SMTP refuses it, and enables it again', async () => {
    const admin = as(ADMIN, ['mailadmin']);
    expect(await directory.authenticate(CAROL, PASSWORD)).not.toBeNull();
    const carol = as(CAROL, ['user']);
    expect((await send(carol, 'GET', '/console/quarantine')).status).toBe(200);
    const seq = await lastSeq();
    expect((await send(admin, 'POST', '/console/directory/accounts/disable', { address: CAROL })).status).toBe(303);
    expect(await directory.authenticate(CAROL, PASSWORD)).toBeNull();
    // Her console session from before ends with it.
    expect((await send(carol, 'GET', '/console/quarantine')).location).toBe('/console/login');
    expect(await directory.expandRecipient(CAROL)).toMatchObject({ local: [], disabled: [{ address: CAROL }] });
    expect((await send(admin, 'GET', '/console/directory')).body).toMatch(new RegExp(`<td>${CAROL.replace('.', '\\.')}</td><td></td><td>disabled</td>`));
    expect((await send(admin, 'POST', '/console/directory/accounts/enable', { address: CAROL })).status).toBe(303);
    expect(await directory.authenticate(CAROL, PASSWORD)).not.toBeNull();
    expect((await send(admin, 'POST', '/console/directory/accounts/disable', { address: 'ghost@example.test' })).status).toBe(404);
    expect((await auditSince(seq)).map((r) => [r.actor, r.action, r.subject])).toEqual([
      [ADMIN, 'user.disable', CAROL],
      [ADMIN, 'user.enable', CAROL],
    ]);
  });

  it('sets roles, and refuses mailadmin with pkiofficer on one account like postern user roles, audited', async () => {
    const admin = as(ADMIN, ['mailadmin']);
    const alice = as(ALICE, ['user']);
    const seq = await lastSeq();
    expect((await send(admin, 'POST', '/console/directory/accounts/roles', { address: ALICE, 'role-user': '1', 'role-pkiofficer': '1' })).status).toBe(303);
    expect((await store.meta.directory.getAccount(ALICE))?.roles).toEqual(['user', 'pkiofficer']);
    // A session keeps the roles of its login, so the account's sessions end and it logs in again.
    expect((await send(alice, 'GET', '/console/quarantine')).location).toBe('/console/login');
    const both = await send(admin, 'POST', '/console/directory/accounts/roles', { address: ALICE, 'role-mailadmin': '1', 'role-pkiofficer': '1' });
    expect(both.status).toBe(403);
    expect(both.body).toContain('separation of duties');
    expect((await store.meta.directory.getAccount(ALICE))?.roles).toEqual(['user', 'pkiofficer']);
    const addBoth = await send(admin, 'POST', '/console/directory/accounts', { address: 'frank@example.test', password: NEW_PASSWORD, 'role-mailadmin': '1', 'role-pkiofficer': '1' });
    expect(addBoth.status).toBe(403);
    expect(await store.meta.directory.getAccount('frank@example.test')).toBeNull();
    expect((await send(admin, 'POST', '/console/directory/accounts/roles', { address: ALICE })).status).toBe(400);
    expect((await send(admin, 'POST', '/console/directory/accounts/roles', { address: ALICE, 'role-user': '1' })).status).toBe(303);
    const log = await auditSince(seq);
    expect(log.map((r) => [r.action, r.subject, r.data.result ?? 'done'])).toEqual([
      ['user.roles', ALICE, 'done'],
      ['user.roles', ALICE, 'refused'],
      ['user.add', 'frank@example.test', 'refused'],
      ['user.roles', ALICE, 'done'],
    ]);
    expect(log[0]!.data).toMatchObject({ from: ['user'], to: ['user', 'pkiofficer'] });
    expect(log[0]!.data.sessionsEnded).toBeGreaterThanOrEqual(1);
    expect(log[1]!.data).toMatchObject({ to: ['mailadmin', 'pkiofficer'] });
    expect(log.every((r) => r.actor === ADMIN)).toBe(true);
  });

  it('adds groups, members and aliases, each audited', async () => {
    const admin = as(ADMIN, ['mailadmin']);
    const seq = await lastSeq();
    expect((await send(admin, 'POST', '/console/directory/groups', { name: 'finance', description: 'money' })).status).toBe(303);
    expect((await send(admin, 'POST', '/console/directory/groups', { name: 'finance' })).status).toBe(400);
    expect((await send(admin, 'POST', '/console/directory/groups', { name: 'bad name!' })).status).toBe(400);
    expect((await send(admin, 'POST', '/console/directory/groups/members', { group: 'finance', op: 'add', address: ALICE })).status).toBe(303);
    expect((await send(admin, 'POST', '/console/directory/groups/members', { group: 'finance', op: 'add', address: CAROL })).status).toBe(303);
    expect((await send(admin, 'POST', '/console/directory/groups/members', { group: 'finance', op: 'remove', address: CAROL })).status).toBe(303);
    expect((await send(admin, 'POST', '/console/directory/groups/members', { group: 'nosuch', op: 'add', address: ALICE })).status).toBe(404);
    expect(await store.meta.directory.listGroupMembers('finance')).toEqual([ALICE]);
    expect((await send(admin, 'POST', '/console/directory/aliases', { address: 'billing@example.test', target: ALICE })).status).toBe(303);
    expect((await send(admin, 'POST', '/console/directory/aliases', { address: 'billing@example.test', target: '' })).status).toBe(400);
    expect(await directory.expandRecipient('billing@example.test')).toMatchObject({ local: [{ address: ALICE }] });
    const page = await send(admin, 'GET', '/console/directory');
    expect(page.body).toContain(`<td>finance</td><td>money</td><td>${ALICE}</td>`);
    expect(page.body).toContain(`<td>billing@example.test</td><td>${ALICE}</td>`);
    expect((await auditSince(seq)).map((r) => [r.action, r.subject, r.data])).toEqual([
      ['group.add', 'finance', { description: 'money', via: 'console' }],
      ['group.members', 'finance', { add: [ALICE], remove: [], via: 'console' }],
      ['group.members', 'finance', { add: [CAROL], remove: [], via: 'console' }],
      ['group.members', 'finance', { add: [], remove: [CAROL], via: 'console' }],
      ['alias.add', 'billing@example.test', { target: ALICE, via: 'console' }],
    ]);
  });

  it('shows the latest posture audit on the overview, its failures first in the table', async () => {
    const admin = as(ADMIN, ['mailadmin']);
    expect((await send(admin, 'GET', '/console/overview')).body).toContain('No audit recorded yet');
    const findings = [
      { id: 'roles.separation', area: 'roles', grade: 'fail', reason: 'boss@example.test holds both <mailadmin> and pkiofficer', fix: 'postern user roles' },
      { id: 'dns.example.test.mta-sts', area: 'dns', grade: 'warn', reason: 'missing', fix: 'publish it' },
    ];
    await store.meta.events.record('posture.audited', 'mail.example.test', { pass: 40, warn: 1, fail: 1, findings }, Date.now() - 60_000);
    const body = (await send(admin, 'GET', '/console/overview')).body;
    expect(body).toMatch(/Failed checks<b>1<\/b>/);
    expect(body).toContain('<td>roles.separation</td><td>boss@example.test holds both &#60;mailadmin&#62; and pkiofficer</td>');
    expect(body).toContain('<td>dns.example.test.mta-sts</td>');
  });

  it('shows each role only the links to pages it may open', async () => {
    const nav = (b: string) => [...(/<nav>(.*?)<\/nav>/.exec(b)?.[1] ?? '').matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    expect(nav((await send(as(ADMIN, ['mailadmin']), 'GET', '/console/queue')).body)).toEqual(['/console/overview', '/console/queue', '/console/maintenance', '/console/directory', '/console/quarantine', '/console/security/integrity', '/console/account']);
    expect(nav((await send(as(AUDITOR, ['auditor']), 'GET', '/console/queue')).body)).toEqual(['/console/overview', '/console/queue', '/console/maintenance', '/console/quarantine', '/console/audit', '/console/security/integrity', '/console/account']);
    expect(nav((await send(as(ALICE, ['user']), 'GET', '/console/quarantine')).body)).toEqual(['/console/quarantine', '/console/account']);
  });
});
