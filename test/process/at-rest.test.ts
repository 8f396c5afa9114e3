/**
 * Encryption at rest end to end, with a real postern process: a user's
 * certificate imported with `postern cert import`, mail sent with swaks,
 * read back with Python's imaplib and poplib. The message IMAP returns is
 * S/MIME that `openssl cms -decrypt` with the user's key turns back into
 * exactly what was delivered (the clear copy a user outside the policy got
 * of the same transaction); the store's files and a backup hold no phrase of
 * a covered message's body; mail that came encrypted is stored unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from './postern-process.js';
import { swaks } from '../support/swaks.js';
import { run } from '../support/procs.js';
import { openStore } from '../../src/store/index.js';
import { makePki, openssl, opensslStatus, type Pki } from '../support/smime-pki.js';

const PY = '/usr/bin/python3';
const PASSWORD = 'correct horse battery staple';
const OWNER = 'rsa@example.test'; // the address in the test PKI's RSA certificate
const PLAIN = 'carol@plain.test'; // a domain the policy does not cover
const PHRASE_SHARED = 'periwinkle-aardvark-4417';
const PHRASE_SECRET = 'tangerine-submarine-9902';
let inst: Installation;
let server: ServerProcess;
let pki: Pki;

const last = (r: { replies: string[] }) => r.replies.filter((l) => /^\d{3}[ -]/.test(l)).slice(-2)[0] ?? '';

/** Every message of a user's INBOX over IMAPS (BODY[] and ENVELOPE), once there are `want`; and over POP3 with STLS. */
async function fetchAll(user: string, want: number): Promise<{ imap: { body: Buffer; envelope: string }[]; pop3: Buffer[] }> {
  const script = `
import imaplib, poplib, ssl, sys, time, json, base64
cafile, imaps, pop3, user, pw, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
c = ssl.create_default_context(cafile=cafile); c.check_hostname = False
out = {'imap': [], 'pop3': []}
for attempt in range(100):
    m = imaplib.IMAP4_SSL('127.0.0.1', imaps, ssl_context=c)
    m.login(user, pw)
    typ, data = m.select('INBOX', readonly=True)
    n = int(data[0])
    if n >= want:
        for i in range(1, n + 1):
            typ, d = m.fetch(str(i), '(ENVELOPE BODY.PEEK[])')
            env = d[0][0].decode('latin1')
            out['imap'].append({'envelope': env, 'body': base64.b64encode(d[0][1]).decode()})
        m.logout()
        break
    m.logout()
    time.sleep(0.2)
p = poplib.POP3('127.0.0.1', pop3, timeout=20)
p.stls(c)
p.user(user); p.pass_(pw)
for i in range(1, len(p.list()[1]) + 1):
    resp, lines, octets = p.retr(i)
    out['pop3'].append(base64.b64encode(b'\\r\\n'.join(lines) + b'\\r\\n').decode())
p.quit()
print(json.dumps(out))
`;
  const r = await run(PY, ['-c', script, path.join(inst.dir, 'tls/cert.pem'), String(inst.ports.imaps), String(inst.ports.pop3), user, PASSWORD, String(want)], { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  const o = JSON.parse(r.stdout) as { imap: { envelope: string; body: string }[]; pop3: string[] };
  return { imap: o.imap.map((m) => ({ envelope: m.envelope, body: Buffer.from(m.body, 'base64') })), pop3: o.pop3.map((b) => Buffer.from(b, 'base64')) };
}

function decrypt(stored: Buffer, keyFile: string): Buffer {
  const f = path.join(pki.dir, `fetched-${randomBytes(6).toString('hex')}.eml`);
  writeFileSync(f, stored);
  const r = opensslStatus(['cms', '-decrypt', '-in', f, '-inkey', keyFile]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** Whether any file under dir holds the phrase. */
function filesHolding(dir: string, phrase: string): string[] {
  const needle = Buffer.from(phrase);
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name))
    .filter((f) => readFileSync(f).includes(needle));
}

async function atRestEvents(): Promise<unknown[]> {
  const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
  try {
    return (await store.meta.events.list('smime.at_rest')).reverse().map((e) => e.data['result']);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  pki = makePki();
  inst = await makeInstallation('example.test', '[encryption_at_rest]\nenabled = true\ndomains = ["example.test"]\n', { imap: true, pop3: true });
  for (const args of [['domain', 'add', 'plain.test'], ['user', 'add', OWNER], ['user', 'add', PLAIN]]) {
    const r = cli(inst, args, `${PASSWORD}\n`);
    expect(r.status, r.stderr).toBe(0);
  }
  server = await startServer(inst);
}, 180_000);

afterAll(async () => {
  await server?.kill();
  inst?.cleanup();
  pki?.cleanup();
});

describe('postern cert', () => {
  it('imports a certificate that names the address, refuses one that does not, lists and audits', () => {
    const wrong = cli(inst, ['cert', 'import', OWNER, pki.p256.certFile]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/does not name rsa@example\.test/);
    const der = path.join(pki.dir, 'rsa.der');
    openssl(['x509', '-in', pki.rsa.certFile, '-outform', 'DER', '-out', der]);
    const ok = cli(inst, ['cert', 'import', OWNER, der]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/RSA-2048/);
    const list = JSON.parse(cli(inst, ['cert', 'list', OWNER, '--json']).stdout) as { address: string; source: string; state: string; fingerprint: string }[];
    const fp = openssl(['x509', '-in', pki.rsa.certFile, '-noout', '-fingerprint', '-sha256']).toString().split('=')[1]!.trim().replace(/:/g, '').toLowerCase();
    expect(list).toEqual([expect.objectContaining({ address: OWNER, source: 'uploaded', state: 'valid', fingerprint: fp })]);
    // Another user's certificate, imported and removed again.
    expect(cli(inst, ['user', 'add', pki.p256.email], `${PASSWORD}\n`).status).toBe(0);
    expect(cli(inst, ['cert', 'import', pki.p256.email, pki.p256.certFile]).status).toBe(0);
    const p256 = JSON.parse(cli(inst, ['cert', 'list', '--json']).stdout) as { address: string; fingerprint: string }[];
    expect(p256.map((c) => c.address)).toEqual([pki.p256.email, OWNER]);
    const rm = cli(inst, ['cert', 'remove', p256[0]!.fingerprint]);
    expect(rm.status, rm.stderr).toBe(0);
    expect(cli(inst, ['cert', 'remove', p256[0]!.fingerprint]).status).toBe(2);
    expect(cli(inst, ['cert', 'list', pki.p256.email]).stdout).toMatch(/no certificates/);
    const audit = cli(inst, ['audit-log', 'show', '--json']);
    expect(audit.stdout).toContain('cert.import');
    expect(audit.stdout).toContain('cert.remove');
  });
});

describe('encryption at rest, end to end', () => {
  it('stores a covered user\'s copy encrypted; the owner\'s key recovers exactly what was delivered', async () => {
    const sent = await swaks(['--port', String(inst.ports.mx), '--from', 'bob@outside.test', '--to', `${OWNER},${PLAIN}`, '--header', 'Subject: shared plans', '--body', `Hello,\r\n${PHRASE_SHARED}\r\nBob`]);
    expect(last(sent), sent.transcript).toMatch(/^250 /);
    const owner = await fetchAll(OWNER, 1);
    const plain = await fetchAll(PLAIN, 1);
    const sealed = owner.imap[0]!.body;
    const clear = plain.imap[0]!.body;
    expect(clear.includes(Buffer.from(PHRASE_SHARED))).toBe(true);
    expect(sealed.includes(Buffer.from(PHRASE_SHARED))).toBe(false);
    expect(sealed.toString('latin1')).toMatch(/\r\nContent-Type: application\/pkcs7-mime; smime-type=authEnveloped-data/);
    // ENVELOPE comes from the outer fields kept in clear.
    expect(owner.imap[0]!.envelope).toContain('"shared plans"');
    expect(sealed.toString('latin1')).not.toMatch(/^Received:/m); // trace fields are inside only
    const opened = decrypt(sealed, pki.rsa.keyFile);
    expect(opened.toString('latin1')).toMatch(new RegExp(`^Return-Path: <bob@outside\\.test>\r\nDelivered-To: ${OWNER}\r\nReceived: from swaks\\.example\\.test`));
    // The same message as the plain user's, but for the mailbox it was delivered to.
    expect(withoutDeliveredTo(opened).equals(withoutDeliveredTo(clear))).toBe(true);
    // POP3 serves the same stored message.
    expect(owner.pop3[0]!.equals(sealed)).toBe(true);
  }, 120_000);

  it('leaves no phrase of a covered message in the store\'s files or a backup', async () => {
    const sent = await swaks(['--port', String(inst.ports.mx), '--from', 'bob@outside.test', '--to', OWNER, '--header', 'Subject: for your eyes', '--body', `Only you:\r\n${PHRASE_SECRET}\r\n`]);
    expect(last(sent), sent.transcript).toMatch(/^250 /);
    const owner = await fetchAll(OWNER, 2);
    const sealed = owner.imap[1]!.body;
    expect(decrypt(sealed, pki.rsa.keyFile).includes(Buffer.from(PHRASE_SECRET))).toBe(true);
    const data = path.join(inst.dir, 'data');
    // The scan finds a phrase stored in clear (the plain user's copy), and not the covered one.
    expect(filesHolding(data, PHRASE_SHARED).length).toBeGreaterThan(0);
    // The plain user's copy is a row of the database (small messages are, unless a covered account
    // receives them): the policy keeps only covered mail out of it.
    expect(filesHolding(data, PHRASE_SHARED).some((f) => path.basename(f).startsWith('meta.sqlite'))).toBe(true);
    expect(filesHolding(data, PHRASE_SECRET)).toEqual([]);
    const dest = path.join(inst.dir, 'backup');
    const b = cli(inst, ['backup', dest]);
    expect(b.status, b.stdout + b.stderr).toBe(0);
    expect(filesHolding(dest, PHRASE_SHARED).length).toBeGreaterThan(0);
    expect(filesHolding(dest, PHRASE_SECRET)).toEqual([]);
  }, 120_000);

  it('stores a message that came encrypted exactly as it came', async () => {
    const inner = path.join(pki.dir, 'inner.eml');
    writeFileSync(inner, 'Content-Type: text/plain\r\n\r\nsealed by the sender\r\n');
    const enc = openssl(['cms', '-encrypt', '-aes256', '-in', inner, '-binary', pki.rsa.certFile]).toString('latin1');
    // openssl writes the S/MIME header and body; the sender adds its own fields.
    const msg = `From: bob@outside.test\r\nTo: ${OWNER}\r\nSubject: already sealed\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <sealed@outside.test>\r\n${enc.replace(/\r?\n/g, '\r\n')}`;
    const file = path.join(pki.dir, 'sealed.eml');
    writeFileSync(file, msg);
    // To the covered user and to one outside the policy in one transaction: both must get the same bytes.
    const sent = await swaks(['--port', String(inst.ports.mx), '--from', 'bob@outside.test', '--to', `${OWNER},${PLAIN}`, '--data', file]);
    expect(last(sent), sent.transcript).toMatch(/^250 /);
    const owner = await fetchAll(OWNER, 3);
    const plain = await fetchAll(PLAIN, 2);
    const stored = owner.imap[2]!.body;
    expect(withoutDeliveredTo(stored).equals(withoutDeliveredTo(plain.imap[1]!.body))).toBe(true);
    // As delivered: the delivery and trace fields on top, then the sender's bytes unchanged.
    expect(stored.toString('latin1')).toMatch(new RegExp(`^Return-Path: <bob@outside\\.test>\r\nDelivered-To: ${OWNER}\r\nReceived: from swaks\\.example\\.test`));
    expect(stored.toString('latin1')).toContain(msg.trimEnd());
    expect(decrypt(stored, pki.rsa.keyFile).toString('latin1')).toContain('sealed by the sender');
    expect(await atRestEvents()).toEqual(['encrypted', 'encrypted', 'already']);
  }, 120_000);
});

/** A delivered copy without its Delivered-To field (the one line that differs between two recipients' copies). */
function withoutDeliveredTo(b: Buffer): Buffer {
  return Buffer.from(b.toString('latin1').replace(/^(Return-Path: [^\r]*\r\n)Delivered-To: [^\r]*\r\n/, '$1'), 'latin1');
}
