/**
 * One real postern process: the start banner and check of an installation
 * without a mailadmin, then the fields a submitted and a delivered message get
 * (RFC 6409 Date and Message-ID, RFC 5321 Return-Path and Delivered-To), read
 * back with Python's imaplib, and postmaster@ reaching the mailadmin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from './postern-process.js';
import { run } from '../support/procs.js';
import { smtplib } from '../support/smtplib.js';

const PASSWORD = 'a long enough password 1';
let inst: Installation;
let server: ServerProcess | null = null;

beforeAll(async () => {
  inst = await makeInstallation('example.test', '', { imap: true, logLevel: 'warn' });
}, 60_000);
afterAll(async () => {
  await server?.kill();
  inst?.cleanup();
});

/** The banner once it is complete (it may arrive in more than one read). */
async function banner(s: ServerProcess): Promise<string> {
  for (let i = 0; i < 100 && !s.stderr().includes('Stop with Ctrl-C.'); i++) await new Promise((r) => setTimeout(r, 100));
  return s.stderr();
}

/** FETCHes the header section of every INBOX message over IMAPS with /usr/bin/python3 imaplib. */
async function imapHeaders(user: string): Promise<string[]> {
  const script = String.raw`
import imaplib, json, os, ssl
ctx = ssl.create_default_context(cafile=os.environ['CA'])
m = imaplib.IMAP4_SSL('127.0.0.1', int(os.environ['PORT']), ssl_context=ctx, timeout=20)
m.login(os.environ['USER_'], os.environ['PASS'])
m.select('INBOX')
out = []
typ, data = m.fetch('1:*', '(BODY.PEEK[HEADER])')
for part in data:
    if isinstance(part, tuple):
        out.append(part[1].decode('latin1'))
m.logout()
print(json.dumps(out))
`;
  const r = await run('/usr/bin/python3', ['-c', script], {
    env: { CA: path.join(inst.dir, 'tls/cert.pem'), PORT: String(inst.ports.imaps), USER_: user, PASS: PASSWORD },
    timeoutMs: 30_000,
  });
  if (r.code !== 0) throw new Error(`imaplib failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

async function waitForHeaders(user: string, count: number): Promise<string[]> {
  for (let i = 0; i < 60; i++) {
    const h = await imapHeaders(user);
    if (h.length >= count) return h;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`INBOX of ${user} did not reach ${count} messages`);
}

describe('one installation', () => {
  beforeAll(async () => {
    expect(cli(inst, ['user', 'add', 'ann@example.test'], `${PASSWORD}\n`).status).toBe(0);
    server = await startServer(inst, 60_000);
  }, 90_000);

  it('the banner shows the installation\'s own account, never the demo one; the start check says postmaster@ reaches nobody', async () => {
    const text = await banner(server!);
    expect(text).toContain('Send a first message as ann@example.test:');
    expect(text).toContain('--auth-user ann@example.test');
    expect(text).not.toContain('demo@example.test');
    expect(server!.stdout()).toContain('postmaster@, abuse@ and the report addresses reach nobody: there is no enabled account with the mailadmin role');
    // A mailadmin added while the server runs receives the postmaster's mail from then on.
    expect(cli(inst, ['user', 'add', 'boss@example.test', '--role', 'user', 'mailadmin'], `${PASSWORD}\n`).status).toBe(0);
  }, 60_000);

  it('submission adds Date and Message-ID; delivery adds Return-Path and Delivered-To and drops the sender\'s Return-Path', async () => {
    const file = path.join(inst.dir, 'bare.eml');
    writeFileSync(file, 'Return-Path: <forged@evil.test>\r\nFrom: ann@example.test\r\nTo: boss@example.test\r\nSubject: bare\r\n\r\nno date, no id\r\n');
    const r = await smtplib({
      port: inst.ports.submission, mode: 'starttls', ca: path.join(inst.dir, 'tls/cert.pem'),
      logins: [{ user: 'ann@example.test', password: PASSWORD }], from: 'ann@example.test', to: ['boss@example.test'], msgFile: file,
    });
    expect(r.error).toBeUndefined();
    expect(r.data?.[0]).toBe(250);
    const [h] = await waitForHeaders('boss@example.test', 1);
    const lines = h!.split('\r\n');
    expect(lines[0]).toBe('Return-Path: <ann@example.test>');
    expect(lines[1]).toBe('Delivered-To: boss@example.test');
    expect(h).not.toContain('forged@evil.test');
    expect(h).toMatch(/\r\nDate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r\n/);
    expect(h).toMatch(/\r\nMessage-ID: <[0-9a-f-]{36}@mail\.example\.test>\r\n/);
    expect(h!.match(/^Date:/gim)).toHaveLength(1);
  }, 90_000);

  it('keeps the Date and Message-ID a message has, and postmaster@ reaches the mailadmin with the null sender as <>', async () => {
    const file = path.join(inst.dir, 'full.eml');
    writeFileSync(file, 'From: x@elsewhere.test\r\nTo: postmaster@example.test\r\nSubject: to postmaster\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <kept@elsewhere.test>\r\n\r\nhello\r\n');
    const r = await smtplib({ port: inst.ports.mx, mode: 'starttls', ca: path.join(inst.dir, 'tls/cert.pem'), from: '', to: ['PostMaster@example.test'], msgFile: file });
    expect(r.rcpt?.[0]?.[0]).toBe(250);
    expect(r.data?.[0]).toBe(250);
    const all = await waitForHeaders('boss@example.test', 2);
    const h = all.find((x) => x.includes('Subject: to postmaster'))!;
    expect(h.split('\r\n').slice(0, 2)).toEqual(['Return-Path: <>', 'Delivered-To: boss@example.test']);
    expect(h).toContain('Message-ID: <kept@elsewhere.test>');
    expect(h.match(/^Message-ID:/gim)).toHaveLength(1);
  }, 90_000);
});
