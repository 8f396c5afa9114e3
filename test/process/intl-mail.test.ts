/**
 * Internationalised mail end to end, against one real postern process and
 * only real clients: Python's smtplib logs in with a UTF-8 name and submits
 * with SMTPUTF8 from and to UTF-8 local parts (accounts and an alias made by
 * `postern user add` and `postern alias add`), imaplib reads the message with
 * UTF8=ACCEPT (RFC 6855) and poplib with UTF8 (RFC 6856), byte for byte.
 * Relayed on, a message bounces with a clear reason from a peer without
 * SMTPUTF8 and carries SMTPUTF8 to a peer that offers it (two loopback
 * smtp-server peers, found through a loopback DNS server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from './postern-process.js';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';
import { startPeer, type Peer } from '../delivery/helpers/peer.js';
import { run } from '../support/procs.js';

const PASSWORD = 'a long enough password 1';
const RENE = 'rené@example.test';
const JOSE = 'jösé@example.test';
const ALIAS = 'grüße@example.test'; // an alias of rené
let inst: Installation;
let server: ServerProcess | null = null;
let plainPeer: Peer; // no SMTPUTF8, at mx.plain.test
let utf8Peer: Peer; // SMTPUTF8, at mx.utf8.test
let dns: ZoneServer;

beforeAll(async () => {
  plainPeer = await startPeer({ tls: null, smtputf8: false });
  // The same port on another loopback address: [delivery] port is one for all destinations.
  utf8Peer = await startPeer({ tls: null, smtputf8: true, host: '127.0.0.2', port: plainPeer.port });
  dns = await new ZoneServer({
    'plain.test': { MX: [{ exchange: 'mx.plain.test', preference: 10 }] },
    'mx.plain.test': { A: ['127.0.0.1'] },
    'utf8.test': { MX: [{ exchange: 'mx.utf8.test', preference: 10 }] },
    'mx.utf8.test': { A: ['127.0.0.2'] },
  }).start();
  inst = await makeInstallation('example.test', `[delivery]\nport = ${plainPeer.port}\nresolver = "${dns.address}"\n[queue]\nretry_min = 1\nretry_max = 2\n`, { imap: true, pop3: true, logLevel: 'warn' });
  // UTF-8 names through the CLI: two accounts and an alias.
  for (const user of [RENE, JOSE]) {
    const add = cli(inst, ['user', 'add', user], `${PASSWORD}\n`);
    expect(add.status, add.stderr).toBe(0);
  }
  const alias = cli(inst, ['alias', 'add', ALIAS, RENE]);
  expect(alias.status, alias.stderr).toBe(0);
  server = await startServer(inst, 60_000);
}, 120_000);
afterAll(async () => {
  await server?.kill();
  await plainPeer?.close();
  await utf8Peer?.close();
  await dns?.stop();
  inst?.cleanup();
});

const ca = () => path.join(inst.dir, 'tls/cert.pem');

/**
 * Submits over 587 with smtplib: STARTTLS, AUTH PLAIN with the UTF-8 name
 * (smtplib's own auth() encodes as ASCII, so the same command goes through
 * docmd), MAIL FROM with SMTPUTF8, RCPT, DATA.
 */
async function submit(name: string, msg: Buffer, from: string, to: string[]): Promise<{ features: Record<string, string>; auth: number; mail: number; rcpt: number[]; data: number }> {
  const file = path.join(inst.dir, name);
  writeFileSync(file, msg);
  const script = String.raw`
import base64, json, os, smtplib, ssl
cfg = json.loads(os.environ['CFG'])
ctx = ssl.create_default_context(cafile=cfg['ca'])
s = smtplib.SMTP('127.0.0.1', cfg['port'], timeout=20)
s.ehlo('client.example.test')
s.starttls(context=ctx)
s.ehlo('client.example.test')
out = {'features': dict(s.esmtp_features)}
token = base64.b64encode(('\0' + cfg['from'] + '\0' + cfg['password']).encode('utf-8')).decode('ascii')
out['auth'] = s.docmd('AUTH', 'PLAIN ' + token)[0]
out['mail'] = s.mail(cfg['from'], ['SMTPUTF8'])[0]
out['rcpt'] = [s.rcpt(r)[0] for r in cfg['to']]
with open(cfg['file'], 'rb') as f:
    out['data'] = s.data(f.read())[0]
s.quit()
print(json.dumps(out))
`;
  const cfg = { ca: ca(), port: inst.ports.submission, from, password: PASSWORD, to, file };
  const r = await run('/usr/bin/python3', ['-c', script], { env: { CFG: JSON.stringify(cfg) }, timeoutMs: 45_000 });
  if (r.code !== 0) throw new Error(`smtplib failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { features: Record<string, string>; auth: number; mail: number; rcpt: number[]; data: number };
}

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
# The ENABLED untagged response (imaplib files it under its own name).
out['enable'] = typ + ' ' + b' '.join(d for d in m.response('ENABLED')[1] if d).decode('utf-8')
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

const message = (subject: string, to: string) =>
  Buffer.from(`From: René Ñúñez <${RENE}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <${Date.now()}.${subject.length}@example.test>\r\n\r\nGrüße, René\r\n`, 'utf8');

describe('SMTPUTF8, UTF8=ACCEPT and POP3 UTF8 end to end', () => {
  const subject = 'Grüße aus Köln ✓ 日本語';
  const sent = message(subject, JOSE);

  it('smtplib submits from and to UTF-8 local parts with SMTPUTF8; imaplib reads the message intact after ENABLE UTF8=ACCEPT', async () => {
    const r = await submit('to-jose.eml', sent, RENE, [JOSE, ALIAS]);
    expect(Object.keys(r.features)).toContain('smtputf8');
    expect([r.auth, r.mail, ...r.rcpt, r.data]).toEqual([235, 250, 250, 250, 250]);
    const stored = await waitForMessage(JOSE, (m) => m.includes(Buffer.from(subject, 'utf8')));
    // What postern prepends (Return-Path, Delivered-To, Received) and then the client's bytes, unchanged.
    expect(stored.subarray(stored.length - sent.length).equals(sent)).toBe(true);
    expect(stored.toString('utf8')).toMatch(/^Return-Path: <rené@example\.test>\r\nDelivered-To: jösé@example\.test\r\nReceived: [^]*? with UTF8SMTPSA id /);
    // The alias with a UTF-8 name reached rené.
    const copy = await waitForMessage(RENE, (m) => m.includes(Buffer.from(subject, 'utf8')));
    expect(copy.subarray(copy.length - sent.length).equals(sent)).toBe(true);

    const read = await imapRead(JOSE, 'Entwürfe/Größe');
    expect(read.caps).toContain('UTF8=ACCEPT');
    expect(read.enable).toBe('OK UTF8=ACCEPT');
    // Mailbox names are UTF-8 quoted strings now, not modified UTF-7.
    expect(read.list.some((l) => l.endsWith(' "/" "Entwürfe/Größe"'))).toBe(true);
    expect(read.list.join('\n')).not.toContain('&');
    // ENVELOPE strings hold the raw UTF-8 of the header.
    expect(read.envelopes.some((e) => e.includes(Buffer.from(`"${subject}"`, 'utf8')))).toBe(true);
    expect(read.envelopes.some((e) => e.includes(Buffer.from('"René Ñúñez" NIL "rené" "example.test"', 'utf8')))).toBe(true);
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
    const r = await run('/usr/bin/python3', ['-c', script], { env: { CA: ca(), PORT: String(inst.ports.pop3), USER_: JOSE, PASS: PASSWORD }, timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`poplib failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { capa: Record<string, string[]>; utf8: string; messages: string[] };
    expect(out.capa.UTF8).toEqual(['USER']);
    expect(out.utf8).toMatch(/^\+OK/);
    const msgs = out.messages.map((b) => Buffer.from(b, 'base64'));
    expect(msgs.some((m) => m.subarray(m.length - sent.length).equals(sent))).toBe(true);
  }, 60_000);

  it('relayed to a peer without SMTPUTF8, the message bounces at once with the reason in the sender\'s INBOX', async () => {
    const r = await submit('to-plain-peer.eml', message('nach draußen 1', 'friend@plain.test'), RENE, ['friend@plain.test']);
    expect(r.data).toBe(250);
    const dsn = (await waitForMessage(RENE, (m) => m.includes(Buffer.from('does not support SMTPUTF8')))).toString('utf8');
    expect(dsn).toContain('<friend@plain.test>: 553 5.6.7 the receiving server does not support SMTPUTF8');
    expect(dsn).toMatch(/\r\nStatus: 5\.6\.7\r\n/);
    expect(plainPeer.received).toHaveLength(0);
    expect(plainPeer.mailFroms).toHaveLength(0); // nothing was sent there, not even MAIL FROM
  }, 90_000);

  it('relayed to a peer that offers SMTPUTF8, MAIL FROM carries it', async () => {
    const msg = message('nach draußen 2', 'friend@utf8.test');
    const r = await submit('to-utf8-peer.eml', msg, RENE, ['friend@utf8.test']);
    expect(r.data).toBe(250);
    for (let i = 0; i < 120 && utf8Peer.received.length === 0; i++) await new Promise((res) => setTimeout(res, 250));
    expect(utf8Peer.received).toHaveLength(1);
    expect(utf8Peer.params.filter((p) => p.startsWith('MAIL'))).toEqual([expect.stringMatching(/\bSMTPUTF8=true\b/)]);
    expect(utf8Peer.received[0]!.from).toBe(RENE);
    // DKIM may add a signature field in front: the client's bytes follow unchanged.
    const data = utf8Peer.received[0]!.data;
    expect(data.subarray(data.length - msg.length).equals(msg)).toBe(true);
  }, 90_000);
});
