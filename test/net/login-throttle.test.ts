/**
 * Login throttling with the clients people use (imaplib, poplib, smtplib),
 * each connection from its own loopback address: an attacker's failures lock
 * the attacker's address, never the account, so the owner still logs in from
 * an address it used before; a user behind a shared address (NAT) is not shut
 * out by another user's typos below the per-address limit, and above it only
 * users who never logged in from there are; IMAP closes after three refused
 * logins of any kind.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/start.js';
import { parseConfig } from '../../src/config/index.js';
import { hashPassword } from '../../src/crypto/password.js';
import { generateSelfSigned } from '../../src/crypto/selfsigned.js';
import { provisionMailbox } from '../../src/mailbox/provision.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { run } from '../support/procs.js';
import { freePort } from '../process/postern-process.js';

const DOMAIN = 'example.test';
/** Failed logins from one address (across accounts) before it is locked out. */
const MAX_FAILURES = 6;
const dir = mkdtempSync(path.join(tmpdir(), 'postern-throttle-'));
const caFile = path.join(dir, 'tls', 'cert.pem');
let server: RunningServer | undefined;
const port = { imap: 0, pop3: 0, smtp: 0 };
type Proto = keyof typeof port;

beforeAll(async () => {
  const cert = await generateSelfSigned({ hostname: `mail.${DOMAIN}`, altNames: ['localhost'] });
  mkdirSync(path.join(dir, 'tls'));
  writeFileSync(caFile, cert.certPem);
  writeFileSync(path.join(dir, 'tls', 'key.pem'), cert.keyPem, { mode: 0o600 });
  const p = { mx: await freePort(), sub: await freePort(), subs: await freePort(), imap: await freePort(), imaps: await freePort(), pop3: await freePort(), pop3s: await freePort() };
  Object.assign(port, { imap: p.imaps, pop3: p.pop3s, smtp: p.subs });
  const at = (n: number) => `address = "127.0.0.1"\nport = ${n}\n`;
  const parsed = parseConfig(
    `[server]\nhostname = "mail.${DOMAIN}"\ndata_dir = "data"\n[delivery]\nenabled = false\n[admin]\nenabled = false\n[managesieve]\nenabled = false\n[log]\nlevel = "silent"\n` +
      `[smtp.mx]\n${at(p.mx)}[smtp.submission]\n${at(p.sub)}[smtp.submissions]\n${at(p.subs)}` +
      `[imap]\n${at(p.imap)}tls_port = ${p.imaps}\n[pop3]\n${at(p.pop3)}tls_port = ${p.pop3s}\n` +
      // No per-account delay here (its timing is unit-tested); lockout per address only.
      `[auth]\nmax_failures = ${MAX_FAILURES}\nwindow = 600\nlockout = 600\ndelay_min = 0\ndelay_max = 1\n`,
    dir,
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  server = await startServer(parsed.config, silentLogger());
  const { directory, mailboxes } = server.store.meta;
  await directory.addDomain(DOMAIN, Date.now());
  for (const proto of ['imap', 'pop3', 'smtp']) {
    for (const who of ['owner', 'typo', 'regular', 'newcomer']) {
      const a = await directory.addAccount({ address: `${who}-${proto}@${DOMAIN}`, passwordHash: await hashPassword(`${who}-password-1`) }, Date.now());
      await provisionMailbox(mailboxes, a.id, Date.now());
    }
  }
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One connection from `src`, trying `passwords` in order; what each try got. */
async function logins(proto: Proto, src: string, user: string, passwords: string[]): Promise<string[]> {
  const cfg = { proto, port: port[proto], ca: caFile, src, user: `${user}-${proto}@${DOMAIN}`, passwords };
  const r = await run('/usr/bin/python3', [path.join(import.meta.dirname, 'logins.py')], { env: { ...process.env, LOGIN_CFG: JSON.stringify(cfg) }, timeoutMs: 60_000 });
  return JSON.parse(r.stdout.trim()) as string[];
}
const right = (who: string) => `${who}-password-1`;
const refused = /^(no: |closed$)/;

describe.each(['imap', 'pop3', 'smtp'] as const)('%s login throttling', (proto) => {
  const net = { imap: '127.0.1', pop3: '127.0.2', smtp: '127.0.3' }[proto];
  const owner = `${net}.10`;
  const attacker = `${net}.66`;
  const nat = `${net}.99`;

  it("an attacker's failures lock the attacker's address, and the owner still logs in from a known address", async () => {
    expect(await logins(proto, owner, 'owner', [right('owner')])).toEqual(['ok']);
    // Two wrong passwords per connection, so the per-session limit never ends a connection early.
    for (let i = 0; i < MAX_FAILURES; i += 2) {
      const r = await logins(proto, attacker, 'owner', [`guess-${i}`, `guess-${i + 1}`]);
      expect(r).toHaveLength(2);
      for (const x of r) expect(x).toMatch(/^no: /);
    }
    // The account is not locked: the owner, from where it logged in before, gets in at once.
    expect(await logins(proto, owner, 'owner', [right('owner')])).toEqual(['ok']);
    // The attacker's address is: even the right password is refused unchecked.
    const locked = await logins(proto, attacker, 'owner', [right('owner')]);
    expect(locked[0]).toMatch(refused);
    expect(locked[0]).not.toBe('ok');
  });

  it("one user's typos behind a shared address do not lock out another user there, below the limit and (if known) above it", async () => {
    expect(await logins(proto, nat, 'regular', [right('regular')])).toEqual(['ok']);
    const typos = await logins(proto, nat, 'typo', ['typo-1', 'typo-2']);
    expect(typos.every((t) => refused.test(t))).toBe(true);
    expect(await logins(proto, nat, 'regular', [right('regular')])).toEqual(['ok']);
    expect(await logins(proto, nat, 'typo', [right('typo')]), 'below the limit the typing user gets in too').toEqual(['ok']);
    // Past the per-address limit, the address is locked for whoever never logged in from it...
    for (let i = 0; i < MAX_FAILURES; i += 2) await logins(proto, nat, 'typo', [`typo-${i}a`, `typo-${i}b`]);
    expect((await logins(proto, nat, 'newcomer', [right('newcomer')]))[0]).toMatch(refused);
    // ...but not for a user who logged in from it before (the documented trade-off).
    expect(await logins(proto, nat, 'regular', [right('regular')])).toEqual(['ok']);
  });
});

describe('IMAP per-connection limit', () => {
  it('closes the connection after three refused logins, locked-out ones included', async () => {
    const r = await logins('imap', '127.0.1.66', 'owner', ['a', 'b', 'c', 'd', 'e']);
    expect(r.slice(0, 3).every((x) => x.startsWith('no: '))).toBe(true);
    expect(r[3]).toBe('closed');
    expect(r).toHaveLength(4);
  });
});
