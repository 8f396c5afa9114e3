/**
 * The policy pipeline end to end, in a real postern process: mail arrives
 * over SMTP from swaks (a client nobody here wrote), DNS comes from a zone
 * served on loopback, an independent signer (python3-dkim) signs the good
 * mail, Python's imaplib reads what was delivered, and the CLI shows,
 * releases and counts. DMARC reject is refused, DMARC quarantine lands in
 * Junk, a forged Authentication-Results changes nothing, own-domain forgery
 * is quarantined (released only by an auditor), a look-alike sender is
 * tagged with a banner, a DNS failure is a 4xx, and a DMARC aggregate report
 * mailed to the rua address is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { swaks } from '../support/swaks.js';
import { run } from '../support/procs.js';

const PY = '/usr/bin/python3';
const REPORT = path.resolve('test/corpus/dmarc/aggregate/example.net!example.com!1529366400!1529452799.xml');

let dns: ZoneServer;
let inst: Installation;
let server: ServerProcess;
let keyPem = '';

function dkimSign(message: string): string {
  const script = `import dkim,sys
msg=sys.stdin.buffer.read()
key=open(sys.argv[1],'rb').read()
sig=dkim.sign(msg, b'sel', b'partner.test', key, include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
sys.stdout.buffer.write(sig+msg)`;
  const keyFile = path.join(inst.dir, 'partner.key');
  writeFileSync(keyFile, keyPem);
  return execFileSync(PY, ['-c', script, keyFile], { input: message }).toString('latin1');
}

function mail(from: string, subject: string, extraHeaders = '', body = 'Hello Alice,\r\nsee you tomorrow.\r\n'): string {
  return `${extraHeaders}From: ${from}\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${body}`;
}

async function send(sender: string, data: string, to = 'alice@example.test') {
  const file = path.join(inst.dir, `msg-${randomUUID()}.eml`);
  writeFileSync(file, data);
  return swaks(['--port', String(inst.ports.mx), '--from', sender, '--to', to, '--data', `@${file}`]);
}

const last = (r: { replies: string[] }) => r.replies.filter((l) => /^\d{3}[ -]/.test(l)).slice(-2)[0] ?? '';

/** RFC822 bodies of every message in a folder, read with Python's imaplib over STARTTLS. */
async function imapFetch(user: string, password: string, folder: string): Promise<string[]> {
  const script = `import imaplib, json, os, ssl
c=ssl.create_default_context(cafile=os.environ['CA']); c.check_hostname=False
m=imaplib.IMAP4('127.0.0.1', int(os.environ['PORT']), timeout=20); m.starttls(ssl_context=c)
m.login(os.environ['U'], os.environ['P']); m.select(os.environ['F'], readonly=True)
typ, data = m.uid('SEARCH', None, 'ALL'); out=[]
for uid in data[0].split():
    typ, d = m.uid('FETCH', uid, '(BODY.PEEK[])'); out.append(d[0][1].decode('latin1'))
print(json.dumps(out)); m.logout()`;
  const r = await run(PY, ['-c', script], {
    env: { CA: path.join(inst.dir, 'tls/cert.pem'), PORT: String(inst.ports.imap), U: user, P: password, F: folder },
    timeoutMs: 30_000,
  });
  if (r.code !== 0) throw new Error(`imaplib failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as string[];
}

beforeAll(async () => {
  keyPem = execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']).toString();
  const pub = execFileSync('openssl', ['pkey', '-pubout', '-outform', 'DER'], { input: keyPem }).toString('base64');
  dns = await new ZoneServer({
    'partner.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    '_dmarc.partner.test': { TXT: ['v=DMARC1; p=reject'] },
    'sel._domainkey.partner.test': { TXT: [`v=DKIM1; k=rsa; p=${pub}`] },
    'forger.test': { TXT: ['v=spf1 -all'] },
    '_dmarc.forger.test': { TXT: ['v=DMARC1; p=reject'] },
    'quar.test': { TXT: ['v=spf1 -all'] },
    '_dmarc.quar.test': { TXT: ['v=DMARC1; p=quarantine'] },
    'examp1e.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    'broken.test': { fail: ['TXT', 'A', 'MX'] },
    '_dmarc.broken.test': { fail: ['TXT'] },
    'reporter.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
  }).start();
  inst = await makeInstallation(
    'example.test',
    `[delivery]\nresolver = "${dns.address}"\n[policy.spoof]\nactions = { "own-domain" = "quarantine", lookalike = "tag", "display-name" = "tag" }\n`,
    { imap: true },
  );
  for (const [addr, args] of [
    ['admin@example.test', ['--role', 'mailadmin']],
    ['alice@example.test', ['--name', 'Alice Example']],
    ['audit@example.test', ['--role', 'auditor']],
  ] as const) {
    const r = cli(inst, ['user', 'add', addr, ...args], 'correct horse battery staple\n');
    expect(r.status, r.stderr).toBe(0);
  }
  server = await startServer(inst);
}, 120_000);

afterAll(async () => {
  await server?.kill();
  await dns?.stop();
  inst?.cleanup();
});

describe('policy pipeline over real SMTP', () => {
  it('delivers independently signed, aligned mail with our Authentication-Results, and rejects a DMARC p=reject failure despite a forged pass', async () => {
    const good = await send('news@partner.test', dkimSign(mail('Partner <news@partner.test>', 'signed-ok')));
    expect(last(good)).toMatch(/^250 /);
    const forged = await send(
      'boss@forger.test',
      mail('Boss <boss@forger.test>', 'forged-ar', 'Authentication-Results: mail.example.test; dkim=pass header.d=forger.test; dmarc=pass header.from=forger.test\r\n'),
    );
    expect(last(forged)).toMatch(/^550 5\.7\.1 .*DMARC/);
    // One altered body byte after signing: the signature fails, DMARC fails, p=reject refuses it.
    const tampered = dkimSign(mail('Partner <news@partner.test>', 'tampered')).replace('see you tomorrow', 'see you tomorroW');
    expect(last(await send('news@partner.test', tampered))).toMatch(/^250 /); // SPF still passes aligned
    await new Promise((r) => setTimeout(r, 1500));
    const inbox = await imapFetch('alice@example.test', 'correct horse battery staple', 'INBOX');
    const signed = inbox.find((m) => m.includes('Subject: signed-ok'))!;
    // The delivery fields, then our Received field, our Authentication-Results right below it.
    expect(signed).toMatch(/^Return-Path: <news@partner\.test>\r\nDelivered-To: alice@example\.test\r\nReceived: [^]*?\r\nAuthentication-Results: mail\.example\.test;/);
    expect(signed.indexOf('Authentication-Results')).toBeLessThan(signed.indexOf('DKIM-Signature'));
    expect(signed).toMatch(/dkim=pass[^;]*header\.d=partner\.test/);
    expect(signed).toMatch(/dmarc=pass/);
    const changed = inbox.find((m) => m.includes('Subject: tampered'))!;
    expect(changed).toMatch(/dkim=fail/);
    expect(inbox.some((m) => m.includes('forged-ar'))).toBe(false);
    const shown = cli(inst, ['message', 'show', 'alice@example.test', 'INBOX', '1', '--json']);
    expect(shown.status, shown.stderr).toBe(0);
    const j = JSON.parse(shown.stdout) as { verdicts: { stage: string; action: string }[]; authResults: string[] };
    expect(j.verdicts.map((v) => `${v.stage}=${v.action}`)).toContain('auth=pass');
    expect(j.authResults[0]).toMatch(/dmarc=pass/);
  });

  it('never refuses mail to postmaster@ for DMARC: alone it is filed in Junk, with another recipient it is held', async () => {
    const alone = await send('boss@forger.test', mail('Boss <boss@forger.test>', 'to-postmaster-alone'), 'postmaster@example.test');
    expect(last(alone)).toMatch(/^250 /);
    const both = await send('boss@forger.test', mail('Boss <boss@forger.test>', 'to-postmaster-and-alice'), 'postmaster@example.test,alice@example.test');
    expect(last(both)).toMatch(/^250 /);
    let junk: string[] = [];
    for (let i = 0; i < 40 && !junk.some((m) => m.includes('to-postmaster-alone')); i++) {
      await new Promise((r) => setTimeout(r, 250));
      junk = await imapFetch('admin@example.test', 'correct horse battery staple', 'Junk');
    }
    const filed = junk.find((m) => m.includes('Subject: to-postmaster-alone'));
    expect(filed).toMatch(/dmarc=fail/);
    // Held: neither the postmaster nor alice sees the one that also went to alice.
    for (const [user, folder] of [['admin@example.test', 'INBOX'], ['admin@example.test', 'Junk'], ['alice@example.test', 'INBOX'], ['alice@example.test', 'Junk']] as const) {
      expect((await imapFetch(user, 'correct horse battery staple', folder)).some((m) => m.includes('to-postmaster-and-alice')), `${user} ${folder}`).toBe(false);
    }
  });

  it('delivers DMARC p=quarantine failures into Junk and answers 4xx when DNS fails', async () => {
    expect(last(await send('sales@quar.test', mail('Sales <sales@quar.test>', 'quarantine-me')))).toMatch(/^250 /);
    expect(last(await send('x@broken.test', mail('X <x@broken.test>', 'dns-broken')))).toMatch(/^4\d\d /);
    await new Promise((r) => setTimeout(r, 1500));
    const junk = await imapFetch('alice@example.test', 'correct horse battery staple', 'Junk');
    expect(junk.some((m) => m.includes('Subject: quarantine-me') && /dmarc=fail/.test(m))).toBe(true);
  });

  it('quarantines own-domain forgery from outside; a plain user cannot release it, an auditor can, and it is then delivered', async () => {
    expect(last(await send('ceo@example.test', mail('CEO <ceo@example.test>', 'own-domain')))).toMatch(/^250 /);
    const list = JSON.parse(cli(inst, ['quarantine', 'list', '--json']).stdout) as { queueId: string; stage: string; reason: string }[];
    const held = list.find((q) => q.stage === 'spoof');
    expect(held?.reason).toMatch(/own-domain/);
    const refused = cli(inst, ['quarantine', 'release', held!.queueId, '--as', 'alice@example.test'], 'correct horse battery staple\n');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/may not act on the quarantine/);
    const wrongPw = cli(inst, ['quarantine', 'release', held!.queueId, '--as', 'audit@example.test'], 'wrong password here\n');
    expect(wrongPw.status).not.toBe(0);
    const ok = cli(inst, ['quarantine', 'release', held!.queueId, '--as', 'audit@example.test'], 'correct horse battery staple\n');
    expect(ok.status, ok.stderr).toBe(0);
    const shown = JSON.parse(cli(inst, ['quarantine', 'show', held!.queueId, '--json']).stdout) as { entry: { state: string; actor: string } };
    expect(shown.entry).toMatchObject({ state: 'released', actor: 'audit@example.test' });
    // Only the release that happened is in the audit log, under the account that acted.
    const audit = JSON.parse(cli(inst, ['audit-log', 'show', '--json', '--action', 'quarantine.release']).stdout) as { actor: string; subject: string }[];
    expect(audit).toMatchObject([{ actor: 'audit@example.test', subject: held!.queueId }]);
    await new Promise((r) => setTimeout(r, 1500));
    const inbox = await imapFetch('alice@example.test', 'correct horse battery staple', 'INBOX');
    expect(inbox.some((m) => m.includes('Subject: own-domain') && m.includes('X-Postern-Spoof: own-domain='))).toBe(true);
  });

  it('tags a look-alike sender that borrows a colleague’s name, with a header and a visible banner', async () => {
    expect(last(await send('alice@examp1e.test', mail('Alice Example <alice@examp1e.test>', 'lookalike')))).toMatch(/^250 /);
    await new Promise((r) => setTimeout(r, 1500));
    const inbox = await imapFetch('alice@example.test', 'correct horse battery staple', 'INBOX');
    const m = inbox.find((x) => x.includes('Subject: lookalike'))!;
    expect(m).toMatch(/X-Postern-Spoof: [^\r\n]*lookalike=/);
    expect(m).toMatch(/display-name=impersonation/);
    const body = m.split('\r\n\r\n').slice(1).join('\r\n\r\n');
    expect(body.indexOf('CAUTION')).toBeGreaterThanOrEqual(0);
    expect(body.indexOf('CAUTION')).toBeLessThan(body.indexOf('Hello Alice'));
  });

  it('stores a DMARC aggregate report mailed to the rua address and delivers the mail to the mail administrator', async () => {
    const xml = readFileSync(REPORT).toString('base64').replace(/.{76}/g, '$&\r\n');
    const data = `From: noreply@reporter.test\r\nTo: dmarc-reports@example.test\r\nSubject: Report Domain: example.com\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <report1@reporter.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nreport attached\r\n--b\r\nContent-Type: text/xml; name="report.xml"\r\nContent-Disposition: attachment; filename="report.xml"\r\nContent-Transfer-Encoding: base64\r\n\r\n${xml}\r\n--b--\r\n`;
    expect(last(await send('noreply@reporter.test', data, 'dmarc-reports@example.test'))).toMatch(/^250 /);
    let rows: { count: number }[] = [];
    for (let i = 0; i < 20 && rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
      rows = (JSON.parse(cli(inst, ['dmarc', 'report', '--since', '2000-01-01', '--json']).stdout) as { rows: { count: number }[] }).rows;
    }
    expect(rows.length).toBeGreaterThan(0);
    const admin = await imapFetch('admin@example.test', 'correct horse battery staple', 'INBOX');
    expect(admin.some((m) => m.includes('Subject: Report Domain: example.com'))).toBe(true);
  });

  it('keeps the delivery time of every message that reached a mailbox', () => {
    const r = cli(inst, ['delivery', 'times', '--since', '1h', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as { rows: { direction: string; count: number; p50Ms: number }[] }).rows;
    const inbound = rows.find((x) => x.direction === 'inbound');
    expect(inbound?.count).toBeGreaterThanOrEqual(6);
    expect(inbound!.p50Ms).toBeLessThan(60_000);
  });

  it('counts spoofed mail by detector and origin', () => {
    const r = cli(inst, ['spoof', 'report', '--since', '1h', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as { total: number; byOrigin: { outside: number }; rows: { detector: string; origin: string; count: number }[] };
    const count = (d: string) => rep.rows.filter((x) => x.detector === d && x.origin === 'outside').reduce((n, x) => n + x.count, 0);
    expect(count('own-domain')).toBeGreaterThanOrEqual(1);
    expect(count('lookalike')).toBeGreaterThanOrEqual(1);
    expect(count('dmarc')).toBeGreaterThanOrEqual(2); // forged-ar (rejected) and quarantine-me (junk)
    const table = cli(inst, ['spoof', 'report', '--since', '1h']);
    expect(table.stdout).toMatch(/own-domain\s+outside/);
  });
});
