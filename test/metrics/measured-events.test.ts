/**
 * The confidentiality events, counted from real traffic: swaks sends over
 * the MX with and without STARTTLS and over submission with AUTH; Python's
 * smtplib, imaplib and poplib offer credentials before TLS and are refused.
 * Each session, message and refusal is one event with the TLS version it
 * reached, and nothing else is counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { swaks } from '../support/swaks.js';
import { run } from '../support/procs.js';
import { openStore } from '../../src/store/index.js';

const PY = '/usr/bin/python3';
const PASSWORD = 'correct horse battery staple';
let inst: Installation;
let server: ServerProcess;

const last = (r: { replies: string[] }) => r.replies.filter((l) => /^\d{3}[ -]/.test(l)).slice(-2)[0] ?? '';

beforeAll(async () => {
  inst = await makeInstallation('example.test', '', { imap: true, pop3: true });
  const r = cli(inst, ['user', 'add', 'alice@example.test'], `${PASSWORD}\n`);
  expect(r.status, r.stderr).toBe(0);
  server = await startServer(inst);
}, 120_000);

afterAll(async () => {
  await server?.kill();
  inst?.cleanup();
});

describe('confidentiality events from real sessions', () => {
  it('counts sessions and messages by listener and TLS version, and credentials refused before TLS by protocol', async () => {
    const ca = path.join(inst.dir, 'tls/cert.pem');
    for (let i = 0; i < 2; i++) expect(last(await swaks(['--port', String(inst.ports.mx), '--from', 'a@outside.test', '--to', 'alice@example.test']))).toMatch(/^250 /);
    for (let i = 0; i < 3; i++) expect(last(await swaks(['--port', String(inst.ports.mx), '--tls', '--tls-ca-path', ca, '--from', 'a@outside.test', '--to', 'alice@example.test']))).toMatch(/^250 /);
    const sub = await swaks(['--port', String(inst.ports.submission), '--tls', '--tls-ca-path', ca, '--auth', 'PLAIN', '--auth-user', 'alice@example.test', '--auth-password', PASSWORD, '--from', 'alice@example.test', '--to', 'alice@example.test']);
    expect(last(sub)).toMatch(/^250 /);

    const script = `import smtplib, imaplib, poplib, base64, os
s=smtplib.SMTP('127.0.0.1', int(os.environ['SUB']), timeout=20); s.ehlo('py.test')
code,_=s.docmd('AUTH', 'PLAIN ' + base64.b64encode(b'\\0alice@example.test\\0wrong-password-1').decode()); print('smtp', code); s.quit()
m=imaplib.IMAP4('127.0.0.1', int(os.environ['IMAP']), timeout=20)
try:
    m.login('alice@example.test', 'wrong-password-1'); print('imap', 'OK')
except imaplib.IMAP4.error as e:
    print('imap', 'refused')
m.logout()
p=poplib.POP3('127.0.0.1', int(os.environ['POP3']), timeout=20)
try:
    p.user('alice@example.test'); print('pop3', 'OK')
except poplib.error_proto as e:
    print('pop3', 'refused')
p.quit()`;
    const r = await run(PY, ['-c', script], { env: { SUB: String(inst.ports.submission), IMAP: String(inst.ports.imap), POP3: String(inst.ports.pop3) }, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['smtp 530', 'imap refused', 'pop3 refused']);

    await server.kill(); // a clean stop flushes every event
    const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
    try {
      const tally = async (kind: string, fields: string[]) =>
        Object.fromEntries((await store.meta.events.tally(kind, 0, fields)).map((t) => [fields.map((f) => t.labels[f]).join('/'), t.count]));
      expect(await tally('smtp.message', ['listener', 'tls'])).toEqual({ 'mx/none': 2, 'mx/TLSv1.3': 3, 'submission/TLSv1.3': 1 });
      expect(await tally('smtp.session', ['listener', 'tls'])).toEqual({ 'mx/none': 2, 'mx/TLSv1.3': 3, 'submission/TLSv1.3': 1, 'submission/none': 1 });
      expect(await tally('auth.plaintext_refused', ['protocol'])).toEqual({ smtp: 1, imap: 1, pop3: 1 });
    } finally {
      await store.close();
    }
  }, 120_000);
});
