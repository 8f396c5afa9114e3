/**
 * S/MIME signature checking end to end, in a real postern process: swaks
 * sends openssl-signed messages to the MX (valid, one byte changed, signed by
 * someone other than the From address), an unsigned and an encrypted one;
 * Python's imaplib reads X-Postern-SMIME back from the mailbox; the events
 * are counted in the store and in `postern report`, and the valid signer's
 * certificate is kept as a learned certificate for its address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { swaks } from '../support/swaks.js';
import { run } from '../support/procs.js';
import { makePki, openssl, type Party, type Pki } from '../support/smime-pki.js';
import { openStore } from '../../src/store/index.js';

const PY = '/usr/bin/python3';
const PASSWORD = 'correct horse battery staple';
const RCPT = 'alice@postern.test';
let inst: Installation;
let server: ServerProcess;
let pki: Pki;

beforeAll(async () => {
  pki = makePki();
  // The PKI's addresses are @example.test: outside this installation's domain, as a correspondent's are.
  inst = await makeInstallation('postern.test', `[policy.smime]\ntrust_anchors = "${pki.rootFile}"\n`, { imap: true });
  const r = cli(inst, ['user', 'add', RCPT], `${PASSWORD}\n`);
  expect(r.status, r.stderr).toBe(0);
  server = await startServer(inst);
}, 120_000);

afterAll(async () => {
  await server?.kill();
  inst?.cleanup();
  pki?.cleanup();
});

let n = 0;
function bodyFile(text: string): string {
  const f = path.join(pki.dir, `e2e-${n++}.txt`);
  writeFileSync(f, `Content-Type: text/plain\r\n\r\n${text}\r\n`);
  return f;
}
const sign = (p: Party, from: string, subject: string): Buffer =>
  openssl(['cms', '-sign', '-in', bodyFile(`Message ${subject}.`), '-signer', p.certFile, '-inkey', p.keyFile, '-certfile', pki.interFile, '-from', from, '-to', RCPT, '-subject', subject]);

async function send(subject: string, data: Buffer): Promise<void> {
  const file = path.join(pki.dir, `${subject}.eml`);
  writeFileSync(file, data);
  const r = await swaks(['--port', String(inst.ports.mx), '--from', 'sender@example.test', '--to', RCPT, '--data', `@${file}`]);
  expect(r.replies.filter((l) => /^\d{3} /.test(l)).slice(-2)[0], r.transcript).toMatch(/^250 /);
}

/** Subject → X-Postern-SMIME (or "-") of every message in the inbox, once `count` have arrived (after-queue delivery). */
async function inbox(count: number): Promise<Record<string, string>> {
  const script = `import imaplib, os, time, email, ssl
want = int(os.environ['COUNT'])
c = ssl.create_default_context(cafile=os.environ['CA']); c.check_hostname = False
for _ in range(60):
    m = imaplib.IMAP4('127.0.0.1', int(os.environ['IMAP']), timeout=20); m.starttls(ssl_context=c)
    m.login('${RCPT}', os.environ['PW'])
    m.select('INBOX')
    ids = m.search(None, 'ALL')[1][0].split()
    if len(ids) >= want:
        for i in ids:
            h = email.message_from_bytes(m.fetch(i, '(BODY.PEEK[HEADER])')[1][0][1])
            print(h['Subject'], '|', h.get('X-Postern-SMIME', '-'))
        m.logout()
        break
    m.logout()
    time.sleep(0.5)`;
  const r = await run(PY, ['-c', script], { env: { CA: path.join(inst.dir, 'tls/cert.pem'), IMAP: String(inst.ports.imap), PW: PASSWORD, COUNT: String(count) }, timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' | ') as [string, string]));
}

describe('smime stage in a running server', () => {
  it('tags received mail by its signature, counts it, and learns the valid signer\'s certificate', async () => {
    await send('good', sign(pki.rsa, pki.rsa.email, 'good'));
    const tampered = sign(pki.p256, pki.p256.email, 'changed');
    const at = tampered.indexOf('Message changed.');
    tampered[at] = 'm'.charCodeAt(0);
    await send('changed', tampered);
    await send('mismatch', sign(pki.rsa, 'ceo@example.test', 'mismatch'));
    await send('plain', Buffer.from(`From: someone@example.test\r\nTo: ${RCPT}\r\nSubject: plain\r\n\r\nNo signature here.\r\n`));
    await send('sealed', openssl(['cms', '-encrypt', '-in', bodyFile('secret'), '-aes-256-gcm', '-recip', pki.p384.certFile, '-from', pki.p384.email, '-to', RCPT, '-subject', 'sealed']));

    expect(await inbox(5)).toEqual({
      good: 'valid (signer rsa@example.test)',
      changed: 'tampered (signer p256@example.test)',
      mismatch: 'untrusted (signer rsa@example.test)',
      plain: '-',
      sealed: '-',
    });

    await server.kill(); // a clean stop flushes every event
    const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
    try {
      const tally = async (kind: string, fields: string[]) =>
        Object.fromEntries((await store.meta.events.tally(kind, 0, fields)).map((t) => [fields.map((f) => t.labels[f]).join('/'), t.count]));
      expect(await tally('smime.message', ['signed', 'encrypted', 'direction'])).toEqual({ 'true/false/inbound': 3, 'false/false/inbound': 1, 'false/true/inbound': 1 });
      expect(await tally('smime.signature', ['result', 'direction'])).toEqual({ 'valid/inbound': 1, 'tampered/inbound': 1, 'untrusted/inbound': 1 });
      const learned = await store.meta.certificates.list();
      const der = Buffer.from(pki.rsa.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      expect(learned.map((c) => [c.address, c.source, c.fingerprint])).toEqual([['rsa@example.test', 'learned', createHash('sha256').update(der).digest('hex')]]);
    } finally {
      await store.close();
    }
    const rep = cli(inst, ['report', '--since', '1h', '--format', 'json']);
    expect(rep.status, rep.stderr).toBe(0);
    const smime = (JSON.parse(rep.stdout) as { confidentiality: { smime: { signed: { value: number }; encrypted: { value: number } } } }).confidentiality.smime;
    expect([smime.signed.value, smime.encrypted.value]).toEqual([3, 1]);
  }, 180_000);
});
