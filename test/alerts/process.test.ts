/**
 * Alerts on a running postern process (`node dist/cli/main.js start`; needs
 * `npm run build`): a blob damaged beyond repair and found by the `postern
 * scrub` command (another process) reaches the operator as a mail in a local
 * mailbox, read with Python's imaplib and parsed with Python's email package,
 * and as a webhook to a receiver on loopback whose signature is checked here
 * with node:crypto alone. A storm of 1,000 events of one kind sends at most
 * max_per_window alerts and one summary that counts the rest.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { blobFile, blockDataBits, flipBit } from '../integrity/helpers.js';
import { FILES_ONLY, cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { run } from '../support/procs.js';

const PY = '/usr/bin/python3';
const DOMAIN = 'example.test';
const HOST = `mail.${DOMAIN}`;
const SECRET = 'an alert webhook key for the e2e test';
const PASSWORD = 'correct horse battery staple';
const MAX = 5;

interface Hook {
  raw: string;
  sig: string;
  body: { kind: string; severity: string; host: string; subject: string; data: Record<string, unknown>; summary?: { count: number } };
}

let inst: Installation;
let server: ServerProcess | undefined;
let receiver: Server;
let store: Store;
const hooks: Hook[] = [];

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every message in ops@'s INBOX, parsed by Python's email package. */
async function opsMail(): Promise<{ subject: string; autoSubmitted: string; from: string; body: string }[]> {
  const script = `import email, email.policy, imaplib, json, os, ssl
c=ssl.create_default_context(cafile=os.environ['CA']); c.check_hostname=False
m=imaplib.IMAP4('127.0.0.1', int(os.environ['PORT']), timeout=20); m.starttls(ssl_context=c)
m.login(os.environ['U'], os.environ['P']); m.select('INBOX', readonly=True)
typ, data = m.uid('SEARCH', None, 'ALL'); out=[]
for uid in data[0].split():
    typ, d = m.uid('FETCH', uid, '(BODY.PEEK[])')
    msg = email.message_from_bytes(d[0][1], policy=email.policy.default)
    out.append({'subject': str(msg['subject']), 'autoSubmitted': str(msg['auto-submitted']), 'from': str(msg['from']), 'body': msg.get_content()})
print(json.dumps(out)); m.logout()`;
  const r = await run(PY, ['-c', script], {
    env: { CA: path.join(inst.dir, 'tls/cert.pem'), PORT: String(inst.ports.imap), U: `ops@${DOMAIN}`, P: PASSWORD },
    timeoutMs: 30_000,
  });
  if (r.code !== 0) throw new Error(`imaplib failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as { subject: string; autoSubmitted: string; from: string; body: string }[];
}

/** The receiver's own check, written without postern's code: HMAC-SHA256(secret, t + "." + body), t within 5 minutes. */
function signatureVerifies(h: Hook): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(h.sig);
  if (!m) return false;
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
  const want = createHmac('sha256', SECRET).update(`${m[1]}.${h.raw}`).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    req.on('end', () => {
      hooks.push({ raw, sig: String(req.headers['x-postern-signature'] ?? ''), body: JSON.parse(raw) as Hook['body'] });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as { port: number }).port;
  inst = await makeInstallation(
    DOMAIN,
    '[integrity]\nscrub_interval = 0\n' +
      FILES_ONLY +
      `[alerts]\nenabled = true\nmail_to = ["ops@${DOMAIN}"]\nwebhook_url = "http://127.0.0.1:${port}/hook"\nwebhook_secret_file = "hook.key"\npoll_interval = 1\n` +
      // The window is long enough for the whole storm to fall into one.
      `[alerts.rate]\nmax_per_window = ${MAX}\nwindow = 20\n`,
    { imap: true },
  );
  writeFileSync(path.join(inst.dir, 'hook.key'), `${SECRET}\n`, { mode: 0o600 });
  for (const who of ['ops', 'alice']) expect(cli(inst, ['user', 'add', `${who}@${DOMAIN}`], `${PASSWORD}\n`).status).toBe(0);
  server = await startServer(inst);
  store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
}, 120_000);

afterAll(async () => {
  await server?.kill();
  await store?.close();
  await new Promise((r) => receiver?.close(r));
  inst?.cleanup();
});

describe('alerts from a running server', () => {
  it('mails and posts a signed webhook when `postern scrub` finds a blob damaged beyond repair', async () => {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: inst.ports.mx, secure: false, ignoreTLS: true });
    await t.sendMail({ envelope: { from: 'someone@remote.test', to: [`alice@${DOMAIN}`] }, raw: `From: someone@remote.test\r\nTo: alice@${DOMAIN}\r\nSubject: to be damaged\r\n\r\n${'payload '.repeat(2000)}\r\n` });
    const alice = (await store.meta.directory.getAccount(`alice@${DOMAIN}`))!;
    const inbox = (await store.meta.mailboxes.getFolder(alice.id, 'INBOX'))!;
    const msg = await until('delivery to alice', async () => (await store.meta.mailboxes.listMessages(inbox.id))[0]);
    // Two flipped bits in one block: detected, beyond repair.
    const bits = blockDataBits(msg.size, 0);
    flipBit(blobFile(path.join(inst.dir, 'data'), msg.blobId), bits.first + 3);
    flipBit(blobFile(path.join(inst.dir, 'data'), msg.blobId), bits.first + 200);
    const scrub = cli(inst, ['scrub']);
    expect(scrub.status, scrub.stdout + scrub.stderr).toBe(1);

    const hook = await until('the webhook', () => hooks.find((h) => h.body.kind === 'integrity.uncorrectable'));
    expect(signatureVerifies(hook)).toBe(true);
    expect(signatureVerifies({ ...hook, raw: hook.raw.replace('critical', 'warning') })).toBe(false); // the check can fail
    expect(hook.body).toMatchObject({ severity: 'critical', host: HOST, subject: `blob:${msg.blobId}` });

    const mail = await until('the alert mail', async () => (await opsMail()).find((m) => m.subject.includes('integrity.uncorrectable')));
    expect(mail.subject).toBe(`[postern critical] integrity.uncorrectable on ${HOST}`);
    expect(mail.autoSubmitted).toBe('auto-generated');
    expect(mail.from).toContain(`postmaster@${HOST}`);
    expect(mail.body).toContain(`blob:${msg.blobId}`);
    expect(mail.body).toMatch(/What to do:[\s\S]*restore/i);

    const sent = await until('alert.sent events', async () => {
      const ev = (await store.meta.events.list('alert.sent')).filter((e) => e.data.kind === 'integrity.uncorrectable');
      return ev.length >= 2 ? ev : undefined;
    });
    expect(sent.map((e) => e.data.channel).sort()).toEqual(['mail', 'webhook']);
  }, 120_000);

  it('turns a storm of 1,000 events into at most max_per_window alerts and one summary with the right count', async () => {
    // Recorded straight into the events table, as another node or a command would.
    for (let i = 0; i < 1000; i++) await store.meta.events.record('storage.full', 'spool', { i }, Date.now());
    const storm = () => hooks.filter((h) => h.body.kind === 'storage.full');
    const summary = await until('the summary webhook', () => storm().find((h) => h.body.summary), 90_000);
    expect(summary.body.summary!.count).toBe(1000 - MAX);
    expect(signatureVerifies(summary)).toBe(true);
    expect(storm().filter((h) => !h.body.summary)).toHaveLength(MAX);

    const mails = await until('the summary mail', async () => {
      const all = (await opsMail()).filter((m) => m.subject.includes('storage.full'));
      return all.some((m) => m.subject.includes('more')) ? all : undefined;
    });
    expect(mails).toHaveLength(MAX + 1);
    const s = mails.find((m) => m.subject.includes('more'))!;
    expect(s.subject).toBe(`[postern critical] ${1000 - MAX} more storage.full events on ${HOST}`);
    expect(s.body).toMatch(new RegExp(`${1000 - MAX} more storage\\.full events between \\S+ and \\S+`));
  }, 150_000);
});
