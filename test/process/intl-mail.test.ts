/**
 * Internationalised mail end to end, against one real postern process and
 * only real clients: Python's smtplib submits with SMTPUTF8 from and to UTF-8
 * local parts (an account and an alias made by `postern user add` and
 * `postern alias add`), imaplib reads the message with UTF8=ACCEPT (RFC 6855)
 * and poplib with UTF8 (RFC 6856), byte for byte. Relayed on, it bounces with
 * a clear reason from a peer without SMTPUTF8 and carries SMTPUTF8 to a peer
 * that offers it (a loopback smtp-server found through a loopback DNS server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from './postern-process.js';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';
import { startPeer, type Peer } from '../delivery/helpers/peer.js';
import { run } from '../support/procs.js';
import { smtplib } from '../support/smtplib.js';

const PASSWORD = 'a long enough password 1';
const RENE = 'rené@example.test';
const JOSE = 'jösé@example.test';
let inst: Installation;
let server: ServerProcess | null = null;
let peer: Peer;
let dns: ZoneServer;

beforeAll(async () => {
  peer = await startPeer({ tls: null, smtputf8: false });
  dns = await new ZoneServer({
    'dest.test': { MX: [{ exchange: 'mx1.dest.test', preference: 10 }] },
    'mx1.dest.test': { A: ['127.0.0.1'] },
  }).start();
  inst = await makeInstallation('example.test', `[delivery]\nport = ${peer.port}\nresolver = "${dns.address}"\n[queue]\nretry_min = 1\nretry_max = 2\n`, { imap: true, pop3: true, logLevel: 'warn' });
  expect(cli(inst, ['user', 'add', 'ann@example.test'], `${PASSWORD}\n`).status).toBe(0);
  // UTF-8 names through the CLI: an account, and an alias that ann may send as.
  const add = cli(inst, ['user', 'add', RENE], `${PASSWORD}\n`);
  expect(add.stderr + add.stdout).not.toMatch(/not a valid/);
  expect(add.status).toBe(0);
  expect(cli(inst, ['alias', 'add', JOSE, 'ann@example.test']).status).toBe(0);
  server = await startServer(inst, 60_000);
}, 120_000);
afterAll(async () => {
  await server?.kill();
  await peer?.close();
  await dns?.stop();
  inst?.cleanup();
});

const ca = () => path.join(inst.dir, 'tls/cert.pem');

/** Reads INBOX over IMAPS with imaplib: AUTHENTICATE PLAIN in UTF-8, ENABLE UTF8=ACCEPT, every message whole. */
async function imapRead(user: string, create?: string): Promise<{ caps: string[]; enable: string; list: string[]; messages: Buffer[]; envelopes: Buffer[] }> {
  const script = String.raw`
import base64, imaplib, json, os, ssl
ctx = ssl.create_default_context(cafile=os.environ['CA'])
m = imaplib.IMAP4_SSL('127.0.0.1', int(os.environ['PORT']), ssl_context=ctx, timeout=20)
out = {'caps': list(m.capabilities)}
user, pw = os.environ['USER_'], os.environ['PASS']
m.authenticate('PLAIN', lambda _: ('\0' + user + '\0' + pw).encode('utf-8'))
typ, data = m.enable('UTF8=ACCEPT')
out['enable'] = typ + ' ' + b' '.join(d for d in data if d).decode('utf-8')
if os.environ.get('CREATE'):
    m.create('"' + os.environ['CREATE'] + '"')
typ, data = m.list()
out['list'] = [d.decode('utf-8') for d in data if d]
typ, data = m.select('INBOX')
out['messages'] = []
out['envelopes'] = []
if int(data[0]) > 0:
    typ, data = m.fetch('1:*', '(BODY.PEEK[])')
    out['messages'] = [base64.b64encode(p[1]).decode() for p in data if isinstance(p, tuple)]
    typ, data = m.fetch('1:*', '(ENVELOPE)')
    out['envelopes'] = [base64.b64encode(p if isinstance(p, bytes) else p[0]).decode() for p in data if p]
m.logout()
print(json.dumps(out))
`;
  const r = await run('/usr/bin/python3', ['-c', script], {
    env: { CA: ca(), PORT: String(inst.ports.imaps), USER_: user, PASS: PASSWORD, CREATE: create ?? '', PYTHONIOENCODING: 'utf-8' },
    timeoutMs: 30_000,
  });
  if (r.code !== 0) throw new Error(`imaplib failed: ${r.stderr}`);
  const o = JSON.parse(r.stdout) as { caps: string[]; enable: string; list: string[]; messages: string[]; envelopes: string[] };
  return { ...o, messages: o.messages.map((b) => Buffer.from(b, 'base64')), envelopes: o.envelopes.map((b) => Buffer.from(b, 'base64')) };
}

async function waitForMessage(user: string, test: (m: Buffer) => boolean): Promise<Buffer> {
  for (let i = 0; i < 80; i++) {
    const found = (await imapRead(user)).messages.find(test);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no such message in the INBOX of ${user}`);
}

function submit(name: string, msg: Buffer, to: string[], mailOptions = ['SMTPUTF8']) {
  const file = path.join(inst.dir, name);
  writeFileSync(file, msg);
  return smtplib({
    port: inst.ports.submission, mode: 'starttls', ca: ca(),
    logins: [{ user: 'ann@example.test', password: PASSWORD }], from: JOSE, to, msgFile: file, mail_options: mailOptions,
  });
}

const message = (subject: string, to: string) =>
  Buffer.from(`From: Jösé Ñúñez <${JOSE}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <${Date.now()}.${subject.length}@example.test>\r\n\r\nGrüße, Jösé\r\n`, 'utf8');

describe('SMTPUTF8, UTF8=ACCEPT and POP3 UTF8 end to end', () => {
  const subject = 'Grüße aus Köln ✓ 日本語';
  const sent = message(subject, RENE);

  it('smtplib submits from and to UTF-8 local parts with SMTPUTF8; imaplib reads the message intact after ENABLE UTF8=ACCEPT', async () => {
    const r = await submit('to-rene.eml', sent, [RENE]);
    expect(r.error).toBeUndefined();
    expect(Object.keys(r.features_tls ?? {})).toContain('smtputf8');
    expect(r.mail?.[0]).toBe(250);
    expect(r.rcpt?.[0]?.[0]).toBe(250);
    expect(r.data?.[0]).toBe(250);
    const stored = await waitForMessage(RENE, (m) => m.includes(Buffer.from(subject, 'utf8')));
    // What postern prepends (Return-Path, Delivered-To, Received) and then the client's bytes, unchanged.
    expect(stored.subarray(stored.length - sent.length).equals(sent)).toBe(true);
    expect(stored.toString('utf8')).toMatch(/^Return-Path: <jösé@example\.test>\r\nDelivered-To: rené@example\.test\r\n/);

    const read = await imapRead(RENE, 'Entwürfe/Größe');
    expect(read.caps).toContain('UTF8=ACCEPT');
    expect(read.enable).toBe('OK UTF8=ACCEPT');
    // Mailbox names are UTF-8 quoted strings now, not modified UTF-7.
    expect(read.list.some((l) => l.endsWith(' "/" "Entwürfe/Größe"'))).toBe(true);
    expect(read.list.join('\n')).not.toContain('&');
    // ENVELOPE strings hold the raw UTF-8 of the header.
    expect(read.envelopes.some((e) => e.includes(Buffer.from(`"${subject}"`, 'utf8')))).toBe(true);
    expect(read.envelopes.some((e) => e.includes(Buffer.from('"jösé" "example.test"', 'utf8')))).toBe(true);
  }, 120_000);

  it('poplib logs in with a UTF-8 name after UTF8 and retrieves the same bytes', async () => {
    const script = String.raw`
import base64, json, os, poplib, ssl
ctx = ssl.create_default_context(cafile=os.environ['CA'])
p = poplib.POP3('127.0.0.1', int(os.environ['PORT']), timeout=20)
p.stls(context=ctx)
out = {'capa': {k: v for k, v in p.capa().items()}}
out['utf8'] = p.utf8().decode()
p.user(os.environ['USER_'])
p.pass_(os.environ['PASS'])
count = p.stat()[0]
out['messages'] = [base64.b64encode(b'\r\n'.join(p.retr(i)[1]) + b'\r\n').decode() for i in range(1, count + 1)]
p.quit()
print(json.dumps(out))
`;
    const r = await run('/usr/bin/python3', ['-c', script], { env: { CA: ca(), PORT: String(inst.ports.pop3), USER_: RENE, PASS: PASSWORD }, timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`poplib failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { capa: Record<string, string[]>; utf8: string; messages: string[] };
    expect(out.capa.UTF8).toEqual(['USER']);
    expect(out.utf8).toMatch(/^\+OK/);
    const msgs = out.messages.map((b) => Buffer.from(b, 'base64'));
    expect(msgs.some((m) => m.subarray(m.length - sent.length).equals(sent))).toBe(true);
  }, 60_000);

  it('relayed to a peer without SMTPUTF8, the message bounces at once with the reason in the sender\'s INBOX', async () => {
    peer.offerSmtputf8(false);
    const r = await submit('to-plain-peer.eml', message('nach draußen 1', 'friend@dest.test'), ['friend@dest.test']);
    expect(r.data?.[0]).toBe(250);
    // The sender is an alias of ann: the bounce reaches her.
    const dsn = (await waitForMessage('ann@example.test', (m) => m.includes(Buffer.from('does not support SMTPUTF8')))).toString('utf8');
    expect(dsn).toContain('553');
    expect(dsn).toMatch(/Status: 5\.6\.7/);
    expect(dsn).toContain('the receiving server does not support SMTPUTF8');
    expect(dsn).toContain('friend@dest.test');
    expect(peer.received).toHaveLength(0);
    expect(peer.mailFroms).toHaveLength(0); // nothing was tried there
  }, 90_000);

  it('relayed to a peer that offers SMTPUTF8, MAIL FROM carries it', async () => {
    peer.offerSmtputf8(true);
    const msg = message('nach draußen 2', 'friend@dest.test');
    const r = await submit('to-utf8-peer.eml', msg, ['friend@dest.test']);
    expect(r.data?.[0]).toBe(250);
    for (let i = 0; i < 120 && peer.received.length === 0; i++) await new Promise((res) => setTimeout(res, 250));
    expect(peer.received).toHaveLength(1);
    expect(peer.params.filter((p) => p.startsWith('MAIL'))).toEqual([expect.stringMatching(/\bSMTPUTF8=true\b/)]);
    expect(peer.received[0]!.from).toBe(JOSE);
    expect(peer.received[0]!.data.includes(msg.subarray(0, 60))).toBe(true);
  }, 90_000);
});
