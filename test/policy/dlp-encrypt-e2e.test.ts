/**
 * DLP "encrypt" end to end, in a real postern process: swaks submits over
 * STARTTLS with AUTH; a loopback SMTP sink without STARTTLS stands in for the
 * outside MX (an in-memory DNS zone points dest.test at it); the recipient's
 * key and certificate are made with the openssl CLI and the certificate is
 * imported with `postern cert import`. A card number to that recipient
 * reaches the sink only as application/pkcs7-mime, and `openssl cms -decrypt`
 * with the recipient's key gives the message back; a recipient without a
 * certificate gets the rule's fallback (held, or 550) and nothing reaches the
 * sink; a message that is already encrypted passes as it was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';
import { openStore } from '../../src/store/index.js';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { startPeer, type Peer } from '../delivery/helpers/peer.js';
import { swaks, type SwaksResult } from '../support/swaks.js';

const PASSWORD = 'correct horse battery staple';
const CARD = '4111 1111 1111 1111';
const CARD_DIGITS = CARD.replace(/ /g, '');
const IBAN = 'DE89 3704 0044 0532 0130 00';
const CAROL = 'carol@dest.test'; // has a certificate
const DAVE = 'dave@dest.test'; // has none

const RULES = `version = 1
unscannable_rule = ""

[detectors.cards]
type = "credit_card"

[detectors.sealed]
type = "label"
subject_tags = ["[Sealed]"]

[detectors.iban]
type = "iban"

[[rules]]
name = "payment-cards"
detectors = ["cards", "sealed"]
outbound = ["encrypt"]
internal = ["log"]

[[rules]]
name = "banking"
detectors = ["iban"]
outbound = ["encrypt"]
encrypt_fallback = "reject"
`;

let dns: ZoneServer;
let sink: Peer;
let inst: Installation;
let server: ServerProcess;
let carolKey: string;
let carolCert: string;

const openssl = (args: string[], input?: string | Buffer): Buffer => execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
const last = (r: SwaksResult) => r.replies.filter((l) => /^\d{3}[ -]/.test(l)).slice(-2)[0] ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const found = <T>(x: T | undefined | null | false): T | undefined => (x ? x : undefined);

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let waited = 0; waited <= ms; waited += 250) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function mail(o: { to: string; subject: string; body: string; headers?: string }): string {
  return `From: Alice <alice@example.test>\r\nTo: ${o.to}\r\nSubject: ${o.subject}\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${randomUUID()}@example.test>\r\n${o.headers ?? 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n'}\r\n${o.body}`;
}

/** Submits as alice over STARTTLS with AUTH PLAIN. */
async function submit(to: readonly string[], data: string): Promise<SwaksResult> {
  const file = path.join(inst.dir, `msg-${randomUUID()}.eml`);
  writeFileSync(file, data);
  const ca = path.join(inst.dir, 'tls/cert.pem');
  return swaks(['--port', String(inst.ports.submission), '--tls', '--tls-ca-path', ca, '--auth', 'PLAIN', '--auth-user', 'alice@example.test', '--auth-password', PASSWORD, '--from', 'alice@example.test', '--to', to.join(','), '--data', `@${file}`]);
}

const atSink = (subject: string) => sink.received.filter((r) => r.data.toString('latin1').includes(`Subject: ${subject}`));

/** A small CA and Carol's RSA certificate for S/MIME encryption (emailProtection, keyEncipherment). */
function makeCarol(dir: string): void {
  const f = (n: string) => path.join(dir, n);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '30', '-subj', '/CN=dest.test test CA']);
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('carol.key'), '-out', f('carol.csr'), '-subj', `/CN=Carol/emailAddress=${CAROL}`]);
  writeFileSync(f('carol.ext'), `basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = emailProtection\nsubjectAltName = email:${CAROL}\n`);
  openssl(['x509', '-req', '-in', f('carol.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '30', '-extfile', f('carol.ext'), '-out', f('carol.crt')]);
  carolKey = f('carol.key');
  carolCert = f('carol.crt');
}

beforeAll(async () => {
  sink = await startPeer({ tls: null });
  dns = await new ZoneServer({
    'dest.test': { MX: [{ exchange: 'mx1.dest.test', preference: 10 }] },
    'mx1.dest.test': { A: ['127.0.0.1'] },
  }).start();
  inst = await makeInstallation(
    'example.test',
    `[delivery]\nport = ${sink.port}\nresolver = "${dns.address}"\nconnect_timeout = 2\n[queue]\nretry_min = 1\nretry_max = 2\n[policy.dlp]\nrules = "dlp-rules.toml"\nbudget_ms = 15000\n`,
    { logLevel: 'info' },
  );
  writeFileSync(path.join(inst.dir, 'dlp-rules.toml'), RULES);
  const r = cli(inst, ['user', 'add', 'alice@example.test'], `${PASSWORD}\n`);
  expect(r.status, r.stderr).toBe(0);
  makeCarol(inst.dir);
  // An outside correspondent's certificate: no account is needed for an address of another domain.
  const imported = cli(inst, ['cert', 'import', CAROL, carolCert]);
  expect(imported.status, imported.stderr).toBe(0);
  server = await startServer(inst);
}, 120_000);

afterAll(async () => {
  await server?.kill();
  await sink?.close();
  await dns?.stop();
  inst?.cleanup();
});

describe('DLP encrypt over real SMTP', () => {
  it('encrypts card numbers to the recipient’s certificate: the sink gets application/pkcs7-mime, openssl decrypts it back', async () => {
    const body = `Please charge card ${CARD}, expiry 12/29.\r\n`;
    expect(last(await submit([CAROL], mail({ to: CAROL, subject: 'card-encrypted', body })))).toMatch(/^250 /);
    const got = await until('the encrypted message at the sink', 30_000, () => found(atSink('card-encrypted')[0]));
    const wire = got.data.toString('latin1');
    expect(wire).toMatch(/^Content-Type: application\/pkcs7-mime;[^\r\n]*smime-type=authEnveloped-data/im);
    expect(wire).toMatch(/^X-Postern-DLP: encrypted \(rule payment-cards\)/m);
    expect(wire).not.toContain(CARD);
    expect(wire).not.toContain(CARD_DIGITS);
    const file = path.join(inst.dir, 'at-sink.eml');
    writeFileSync(file, got.data);
    const clear = openssl(['cms', '-decrypt', '-in', file, '-inkey', carolKey, '-recip', carolCert]).toString('latin1');
    expect(clear).toContain('Subject: card-encrypted');
    expect(clear).toContain(body.trimEnd());
    expect(got.to).toEqual([CAROL]);
  }, 60_000);

  it('holds a card message for a recipient without a certificate, naming them, and sends nothing', async () => {
    expect(last(await submit([CAROL, DAVE], mail({ to: `${CAROL}, ${DAVE}`, subject: 'card-held', body: `Card ${CARD}\r\n` })))).toMatch(/^250 /);
    const list = JSON.parse(cli(inst, ['quarantine', 'list', '--json']).stdout) as { queueId: string; stage: string; reason: string }[];
    const held = list.find((q) => q.stage === 'dlp');
    expect(held?.reason).toBe(`payment-cards: cannot encrypt (rule payment-cards): no valid certificate is known for ${DAVE}`);
  }, 60_000);

  it('refuses with 550 when the rule’s fallback is reject, and sends nothing', async () => {
    const sent = await submit([DAVE], mail({ to: DAVE, subject: 'iban-refused', body: `Our account: IBAN ${IBAN}\r\n` }));
    expect(last(sent)).toBe(
      `550 5.7.1 Message refused: it contains confidential data that must be sent encrypted (rule banking), and no valid certificate is known for ${DAVE}. Ask your administrator.`,
    );
  }, 60_000);

  it('lets a message that is already encrypted pass as it was sent', async () => {
    const inner = path.join(inst.dir, 'inner.txt');
    writeFileSync(inner, 'Content-Type: text/plain\r\n\r\nsealed by the sender\r\n');
    const sealed = openssl(['cms', '-encrypt', '-in', inner, '-aes256', carolCert]).toString('latin1');
    // openssl writes MIME-Version and the pkcs7-mime Content-* fields, then the base64 body.
    const [head, ...rest] = sealed.replace(/\r?\n/g, '\r\n').split('\r\n\r\n');
    const entity = rest.join('\r\n\r\n');
    expect(head).toMatch(/smime-type=enveloped-data/);
    // The subject tag makes the rule match; the body cannot be read, so only this label is seen.
    expect(last(await submit([DAVE], mail({ to: DAVE, subject: '[Sealed] already-encrypted', headers: `${head}\r\n`, body: entity })))).toMatch(/^250 /);
    const got = await until('the sealed message at the sink', 30_000, () => found(atSink('[Sealed] already-encrypted')[0]));
    const wire = got.data.toString('latin1');
    expect(wire).not.toContain('X-Postern-DLP');
    // The body as the sender encrypted it (the client ends the data with one more CRLF).
    const sentBody = entity.trimEnd();
    expect(wire.slice(wire.indexOf('\r\n\r\n') + 4).trimEnd()).toBe(sentBody);
    const file = path.join(inst.dir, 'sealed-at-sink.eml');
    writeFileSync(file, got.data);
    expect(openssl(['cms', '-decrypt', '-in', file, '-inkey', carolKey, '-recip', carolCert]).toString('latin1')).toContain('sealed by the sender');
  }, 60_000);

  it('nothing held or refused reached the sink, and dlp.encrypt counted each outcome', async () => {
    await sleep(3000); // retry_min = 1 s: a wrongly queued message would have been tried by now
    expect(atSink('card-held')).toEqual([]);
    expect(atSink('iban-refused')).toEqual([]);
    expect(sink.received.some((r) => r.to.includes(DAVE) && !r.data.toString('latin1').includes('[Sealed]'))).toBe(false);
    for (const r of sink.received) expect(r.data.toString('latin1')).not.toContain(CARD_DIGITS);
    await server.kill(); // a clean stop flushes every event
    const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
    try {
      const tally = Object.fromEntries((await store.meta.events.tally('dlp.encrypt', 0, ['result'])).map((t) => [t.labels.result, t.count]));
      expect(tally).toEqual({ encrypted: 1, fallback_hold: 1, fallback_reject: 1, already: 1 });
    } finally {
      await store.close();
    }
    const logs = server.stdout() + server.stderr();
    expect(logs).not.toContain(CARD_DIGITS);
  }, 60_000);

  it('releases the message held for want of a certificate only with --clear, and audits both answers', async () => {
    expect(cli(inst, ['user', 'add', 'audit@example.test', '--role', 'auditor'], `${PASSWORD}\n`).status).toBe(0);
    const list = JSON.parse(cli(inst, ['quarantine', 'list', '--json']).stdout) as { queueId: string; stage: string; state: string }[];
    const held = list.find((q) => q.stage === 'dlp' && q.state === 'held');
    expect(held).toBeDefined();
    const refused = cli(inst, ['quarantine', 'release', held!.queueId, '--as', 'audit@example.test'], `${PASSWORD}\n`);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('release it with --clear to send it unencrypted');
    const still = JSON.parse(cli(inst, ['quarantine', 'list', '--json']).stdout) as { queueId: string; state: string }[];
    expect(still.find((q) => q.queueId === held!.queueId)?.state).toBe('held');
    const released = cli(inst, ['quarantine', 'release', held!.queueId, '--as', 'audit@example.test', '--clear'], `${PASSWORD}\n`);
    expect(released.status, released.stderr).toBe(0);
    const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
    try {
      const audit = (await store.meta.audit.list({ action: 'quarantine.release', limit: 10 })).map((e) => e.data);
      expect(audit).toEqual(expect.arrayContaining([{ result: 'refused', reason: 'held for encryption; --clear not given' }, { clear: true }]));
      expect((await store.meta.quarantine.get(held!.queueId))?.state).toBe('released');
    } finally {
      await store.close();
    }
  }, 60_000);
});
