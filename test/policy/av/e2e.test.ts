/**
 * Malware scanning end to end: a real postern process and a real clamd with a
 * tiny database. Outbound and internal mail (authenticated submission, swaks)
 * are scanned in-line: EICAR is refused 550 naming the signature, and with
 * clamd stopped the answer is 451. Inbound mail is scanned after the queue:
 * with clamd stopped it waits (nothing delivered, nothing quarantined), and
 * once clamd is back the clean message is delivered and the infected one
 * quarantined. `av status` reports the engine; `av rescan` finds a delivered
 * message after a new signature is loaded and moves it out of the mailbox.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../../process/postern-process.js';
import { Clamd, eicar, EICAR_SIG, mailWith } from '../../support/clamd.js';
import { run } from '../../support/procs.js';
import { swaks } from '../../support/swaks.js';

const PY = '/usr/bin/python3';
const PW = 'correct horse battery staple';

let clamd: Clamd;
let inst: Installation;
let server: ServerProcess;

const last = (r: { replies: string[] }) => r.replies.filter((l) => /^\d{3}[ -]/.test(l)).slice(-2)[0] ?? '';

function file(data: Uint8Array | string): string {
  const f = path.join(inst.dir, `msg-${randomUUID()}.eml`);
  writeFileSync(f, data);
  return f;
}

const withSubject = (m: Buffer, subject: string) => Buffer.from(m.toString('latin1').replace('Subject: files', `Subject: ${subject}`), 'latin1');

async function submit(to: string, data: Buffer) {
  // Submission checks that the From field belongs to the account.
  data = Buffer.from(data.toString('latin1').replace('From: a@example.org', 'From: alice@example.test'), 'latin1');
  return swaks(['--port', String(inst.ports.submission), '--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.test', '--auth-password', PW, '--from', 'alice@example.test', '--to', to, '--data', `@${file(data)}`]);
}

async function mx(data: Uint8Array) {
  return swaks(['--port', String(inst.ports.mx), '--from', 'someone@outside.test', '--to', 'alice@example.test', '--data', `@${file(data)}`]);
}

/** Subjects of the messages in alice's INBOX, read with Python's imaplib. */
async function inboxSubjects(): Promise<string[]> {
  const script = `import imaplib, json, os, ssl
c=ssl.create_default_context(cafile=os.environ['CA']); c.check_hostname=False
m=imaplib.IMAP4('127.0.0.1', int(os.environ['PORT']), timeout=20); m.starttls(ssl_context=c)
m.login('alice@example.test', os.environ['P']); m.select('INBOX', readonly=True)
typ, data = m.uid('SEARCH', None, 'ALL'); out=[]
for uid in data[0].split():
    typ, d = m.uid('FETCH', uid, '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])'); out.append(d[0][1].decode('latin1').strip())
print(json.dumps(out)); m.logout()`;
  const r = await run(PY, ['-c', script], { env: { CA: path.join(inst.dir, 'tls/cert.pem'), PORT: String(inst.ports.imap), P: PW }, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`imaplib failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as string[];
}

const held = () => JSON.parse(cli(inst, ['quarantine', 'list', '--json']).stdout) as { queueId: string; stage: string; reason: string }[];

async function until<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await probe();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 300));
    v = await probe();
  }
  return v;
}

describe('malware scanning in a real postern process', () => {
  beforeAll(async () => {
    clamd = await Clamd.create();
    inst = await makeInstallation(
      'example.test',
      `[queue]\nretry_min = 1\n[policy.malware]\nphase = { inbound = "after-queue", outbound = "inline", internal = "inline" }\n[policy.malware.clamav]\nsocket = "${clamd.socket}"\ntimeout_ms = 5000\n`,
      { imap: true },
    );
    for (const [addr, role] of [
      ['alice@example.test', 'user'],
      ['audit@example.test', 'auditor'],
    ] as const) {
      const r = cli(inst, ['user', 'add', addr, '--role', role], `${PW}\n`);
      expect(r.status, r.stderr).toBe(0);
    }
    server = await startServer(inst);
  }, 120_000);

  afterAll(async () => {
    await server?.kill();
    await clamd?.dispose();
    inst?.cleanup();
  });

  it('refuses EICAR from an authenticated user, outbound and internal, naming the signature; clean mail passes', async () => {
    const e = Buffer.from(eicar(), 'latin1');
    const zipped = mailWith('invoice.zip', 'application/zip', zipSync({ 'inner.zip': zipSync({ 'eicar.txt': e }) }));
    const out = await submit('bob@remote.test', zipped);
    expect(last(out)).toMatch(new RegExp(`^550 5\\.7\\.1 .*${EICAR_SIG.replace(/\./g, '\\.')}`));
    const internal = await submit('alice@example.test', mailWith('eicar.txt', 'application/octet-stream', e));
    expect(last(internal)).toMatch(/^550 5\.7\.1 .*malware/);
    expect(last(await submit('bob@remote.test', mailWith('notes.txt', 'text/plain', Buffer.from('hello'))))).toMatch(/^250 /);
  });

  it('reports the engine up, with its version', () => {
    const r = cli(inst, ['av', 'status', '--json']);
    expect(r.status, r.stderr).toBe(0);
    // clamd and the static checks (an engine of another kind), each answering.
    expect(JSON.parse(r.stdout)).toMatchObject([
      { engine: 'clamav', up: true, version: expect.stringMatching(/^ClamAV /) },
      { engine: 'static', up: true },
    ]);
  });

  it('with clamd stopped: 451 in-line; after the queue the mail waits, then is delivered or quarantined once clamd is back', async () => {
    await clamd.stop();
    try {
      expect(last(await submit('bob@remote.test', mailWith('notes.txt', 'text/plain', Buffer.from('hello'))))).toMatch(/^451 4\.7\.0 /);
      const status = cli(inst, ['av', 'status']);
      expect(status.status).toBe(1);
      expect(status.stdout).toMatch(/clamav\tdown/);
      const e = Buffer.from(eicar(), 'latin1');
      expect(last(await mx(withSubject(mailWith('notes.txt', 'text/plain', Buffer.from('fine')), 'wait-clean')))).toMatch(/^250 /);
      expect(last(await mx(withSubject(mailWith('eicar.zip', 'application/zip', zipSync({ 'eicar.txt': e })), 'wait-infected')))).toMatch(/^250 /);
      // Several scan retries happen meanwhile (retry_min = 1 s); none lets anything through.
      await new Promise((r) => setTimeout(r, 3000));
      expect((await inboxSubjects()).filter((s) => s.includes('wait-'))).toEqual([]);
      expect(held()).toEqual([]);
    } finally {
      await clamd.start();
    }
    const inbox = await until('clean mail delivered', inboxSubjects, (s) => s.some((x) => x.includes('wait-clean')));
    expect(inbox.some((s) => s.includes('wait-infected'))).toBe(false);
    const q = await until('infected mail quarantined', held, (l) => l.length === 1);
    expect(q[0]).toMatchObject({ stage: 'malware', reason: expect.stringContaining(EICAR_SIG) });
  });

  it('rescan: a delivered message caught by a newer signature leaves the mailbox for the quarantine', async () => {
    const marker = `POSTERN-RESCAN-${randomUUID()}`;
    expect(last(await mx(withSubject(mailWith('report.txt', 'text/plain', Buffer.from(`data ${marker} data`)), 'later-bad')))).toMatch(/^250 /);
    await until('delivered', inboxSubjects, (s) => s.some((x) => x.includes('later-bad')));
    const before = held().length;
    // Nothing found yet: nothing moves.
    const first = cli(inst, ['av', 'rescan', '--since', '1d', '--mailbox', 'alice@example.test', '--json']);
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ detected: 0, failed: 0 });
    await clamd.addSignature('Test.Rescan', marker);
    const r = cli(inst, ['av', 'rescan', '--since', '1d']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Test\.Rescan\.UNOFFICIAL\talice@example\.test/);
    expect(r.stdout).toMatch(/1 detected, 1 copies moved to the quarantine/);
    expect((await inboxSubjects()).some((s) => s.includes('later-bad'))).toBe(false);
    const q = held();
    expect(q.length).toBe(before + 1);
    expect(q.find((x) => x.reason.startsWith('rescan:'))).toMatchObject({ stage: 'malware', reason: expect.stringContaining('Test.Rescan') });
    const audit = JSON.parse(cli(inst, ['audit-log', 'show', '--json', '--action', 'av.rescan']).stdout) as unknown[];
    expect(audit).toHaveLength(2);
  });
});
