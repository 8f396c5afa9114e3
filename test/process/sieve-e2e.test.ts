/**
 * Sieve end to end in one real postern process: Debian's sieve-connect
 * uploads and activates a script over ManageSieve (STARTTLS, PLAIN), mail
 * arrives over SMTP (Python's smtplib on the MX), and Python's imaplib finds
 * list mail filed into its folder and the rest in INBOX; the vacation reply
 * goes once to a person and never to the list. A script the parser refuses
 * is not stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from './postern-process.js';
import { run } from '../support/procs.js';
import { smtplib } from '../support/smtplib.js';

const PASSWORD = 'a long enough password 1';
const USER = 'ann@example.test';
let inst: Installation;
let server: ServerProcess | null = null;

const SCRIPT = `require ["fileinto", "vacation"];
if header :contains "List-Id" "announce" {
  fileinto "Lists";
  stop;
}
vacation :days 7 :subject "Away" :addresses ["${USER}"] "I am away until Monday.";
`;

beforeAll(async () => {
  inst = await makeInstallation('example.test', '[delivery]\nenabled = false\n', { imap: true, managesieve: true, logLevel: 'warn' });
  expect(cli(inst, ['user', 'add', USER], `${PASSWORD}\n`).status).toBe(0);
  server = await startServer(inst, 60_000);
}, 90_000);
afterAll(async () => {
  await server?.kill();
  inst?.cleanup();
});

/** sieve-connect with the password on fd 3; killed after 60 s. */
function sieveConnect(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('sieve-connect', ['--server', '127.0.0.1', '--port', String(inst.ports.managesieve), '--user', USER, '--passwordfd', '3', '--tlscafile', path.join(inst.dir, 'tls/cert.pem'), '--tlshostname', 'mail.example.test', ...args], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    (p.stdio[3] as NodeJS.WritableStream).end(`${PASSWORD}\n`);
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function send(from: string, subject: string, extra = ''): Promise<void> {
  const file = path.join(inst.dir, `${subject.replace(/\W/g, '')}.eml`);
  writeFileSync(file, `From: ${from}\r\nTo: ${USER}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@remote.test>\r\n${extra}\r\nhello\r\n`);
  const r = await smtplib({ port: inst.ports.mx, mode: 'plain', ca: path.join(inst.dir, 'tls/cert.pem'), from, to: [USER], msgFile: file });
  expect(r.error).toBeUndefined();
  expect(r.data?.[0]).toBe(250);
}

/** Subjects per folder over IMAPS with /usr/bin/python3 imaplib. */
async function subjects(): Promise<Record<string, string[]>> {
  const script = String.raw`
import imaplib, json, os, ssl, email
ctx = ssl.create_default_context(cafile=os.environ['CA'])
m = imaplib.IMAP4_SSL('127.0.0.1', int(os.environ['PORT']), ssl_context=ctx, timeout=20)
m.login(os.environ['USER_'], os.environ['PASS'])
out = {}
for box in ['INBOX', 'Lists']:
    typ, _ = m.select(box, readonly=True)
    if typ != 'OK':
        out[box] = []
        continue
    typ, data = m.fetch('1:*', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
    out[box] = [email.message_from_bytes(p[1])['Subject'] for p in data if isinstance(p, tuple)]
m.logout()
print(json.dumps(out))
`;
  const r = await run('/usr/bin/python3', ['-c', script], { env: { CA: path.join(inst.dir, 'tls/cert.pem'), PORT: String(inst.ports.imaps), USER_: USER, PASS: PASSWORD }, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`imaplib failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string[]>;
}

/** Queued messages to `to` (delivery is off, so replies wait in the queue). */
function queuedTo(to: string): { subject?: string }[] {
  const r = cli(inst, ['queue', 'list', '--json']);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { recipient?: string; address?: string; subject?: string }[]).filter((q) => (q.recipient ?? q.address) === to);
}

describe('Sieve uploaded over ManageSieve', () => {
  it('refuses a script that does not parse, stores and activates a good one', async () => {
    writeFileSync(path.join(inst.dir, 'bad.sieve'), 'require ["fileinto"];\nfileinto "x"\n');
    const bad = await sieveConnect(['--upload', '--localsieve', path.join(inst.dir, 'bad.sieve'), '--remotesieve', 'bad']);
    expect(bad.code).not.toBe(0);
    writeFileSync(path.join(inst.dir, 'main.sieve'), SCRIPT);
    const up = await sieveConnect(['--upload', '--localsieve', path.join(inst.dir, 'main.sieve'), '--remotesieve', 'main']);
    expect(up.code, up.out).toBe(0);
    expect((await sieveConnect(['--activate', '--remotesieve', 'main'])).code).toBe(0);
    const list = await sieveConnect(['--list']);
    expect(list.out).toMatch(/"?main"?\s+ACTIVE/);
    expect(list.out).not.toContain('bad');
  }, 120_000);

  it('files list mail into its folder, keeps the rest, and answers a person once and the list never', async () => {
    await send('news@lists.remote.test', 'announce one', 'List-Id: Announcements <announce.lists.remote.test>\r\n');
    await send('bob@remote.test', 'from bob 1');
    await send('bob@remote.test', 'from bob 2');
    let got: Record<string, string[]> = {};
    for (let i = 0; i < 80; i++) {
      got = await subjects();
      if ((got.INBOX?.length ?? 0) >= 2 && (got.Lists?.length ?? 0) >= 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(got.Lists).toEqual(['announce one']);
    expect(got.INBOX?.sort()).toEqual(['from bob 1', 'from bob 2']);
    // One vacation reply to bob for both messages, none to the list's sender.
    let replies: unknown[] = [];
    for (let i = 0; i < 40 && replies.length === 0; i++) {
      replies = queuedTo('bob@remote.test');
      if (replies.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(replies).toHaveLength(1);
    expect(queuedTo('news@lists.remote.test')).toHaveLength(0);
  }, 120_000);
});
