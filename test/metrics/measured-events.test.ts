/**
 * The confidentiality events, counted from real traffic: swaks sends over
 * the MX with and without STARTTLS and over submission with AUTH; Python's
 * smtplib, imaplib and poplib offer credentials before TLS and are refused.
 * Each session, message and refusal is one event with the TLS version it
 * reached, and nothing else is counted; a bit flipped in a stored message
 * and repaired by a scrub is one correction; `postern report` shows exactly
 * these counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { FILES_ONLY, cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { swaks } from '../support/swaks.js';
import { run } from '../support/procs.js';
import { openStore } from '../../src/store/index.js';
import { BLOB_HEADER_SIZE } from '../../src/crypto/blockcodec.js';
import { flipBit } from '../integrity/helpers.js';

const PY = '/usr/bin/python3';
const PASSWORD = 'correct horse battery staple';
let inst: Installation;
let server: ServerProcess;

const last = (r: { replies: string[] }) => r.replies.filter((l) => /^\d{3}[ -]/.test(l)).slice(-2)[0] ?? '';

beforeAll(async () => {
  inst = await makeInstallation('example.test', FILES_ONLY, { imap: true, pop3: true });
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

    // One flipped bit in a stored message, repaired by a scrub.
    const blobDir = path.join(inst.dir, 'data', 'blobs');
    const blob = readdirSync(blobDir, { recursive: true, withFileTypes: true }).find((d) => d.isFile() && /^[0-9a-f]{64}$/.test(d.name));
    if (!blob) throw new Error('no stored blob');
    flipBit(path.join(blob.parentPath, blob.name), BLOB_HEADER_SIZE * 8 + 100);
    const scrub = cli(inst, ['scrub']);
    expect(scrub.status, scrub.stdout + scrub.stderr).toBe(0);

    // The report reads the same events back: exactly the traffic above.
    const rep = cli(inst, ['report', '--since', '1h', '--format', 'json']);
    expect(rep.status, rep.stderr).toBe(0);
    const report = JSON.parse(rep.stdout) as {
      confidentiality: {
        inbound: { byTls: { tls: string; sessions: number; messages: number }[]; tlsSharePct: { value: number } };
        submission: { byTls: { tls: string; sessions: number; messages: number }[] };
        plaintextAuthRefused: { total: { value: number }; byProtocol: { labels: Record<string, string>; count: number }[] };
      };
      integrity: { corrected: { value: number }; uncorrectable: { value: number } };
    };
    const byTls = (rows: { tls: string; sessions: number; messages: number }[]) => Object.fromEntries(rows.map((r) => [r.tls, [r.sessions, r.messages]]));
    const c = report.confidentiality;
    expect(byTls(c.inbound.byTls)).toEqual({ none: [2, 2], 'TLSv1.3': [3, 3] });
    expect(c.inbound.tlsSharePct.value).toBe(60);
    expect(byTls(c.submission.byTls)).toEqual({ none: [1, 0], 'TLSv1.3': [1, 1] });
    expect(c.plaintextAuthRefused.total.value).toBe(3);
    expect(Object.fromEntries(c.plaintextAuthRefused.byProtocol.map((x) => [x.labels.protocol, x.count]))).toEqual({ smtp: 1, imap: 1, pop3: 1 });
    expect(report.integrity.corrected.value).toBe(1);
    expect(report.integrity.uncorrectable.value).toBe(0);

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
