/**
 * msmtp (GnuTLS + GNU SASL), as a user configures it, against submission:
 * AUTH SCRAM-SHA-256 inside STARTTLS with the certificate verified, DSN
 * NOTIFY=SUCCESS coming back as one "delivered" report, and a wrong password
 * refused like an unknown account.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { killAll, run } from '../support/procs.js';

const MSMTP = '/usr/bin/msmtp';
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  // As `postern user passwd` does: SCRAM keys are stored beside the password hash.
  await h.directory.setPassword(h.users.alice.address, h.users.alice.password);
});
afterEach(() => killAll());
afterAll(async () => {
  killAll();
  await h?.close();
});

async function msmtp(user: string, password: string, args: string[], message: string) {
  const rc = path.join(h.dir, `msmtprc-${randomUUID()}`);
  const log = `${rc}.log`;
  await writeFile(
    rc,
    [
      'defaults',
      'tls on',
      'tls_starttls on',
      `tls_trust_file ${h.caFile}`,
      `logfile ${log}`,
      'account test',
      'host 127.0.0.1',
      `port ${h.ports.submission}`,
      'auth scram-sha-256',
      `user ${user}`,
      `password ${password}`,
      `from ${h.users.alice.address}`,
      'account default : test',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return run(MSMTP, ['-C', rc, '--debug', ...args], { input: message, timeoutMs: 60_000 });
}

const message = (subject: string) => `From: ${'alice@example.test'}\r\nTo: bob@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/ /g, '.')}@example.test>\r\n\r\nbody\r\n`;

describe.runIf(existsSync(MSMTP))('msmtp on submission', () => {
  it('logs in with SCRAM-SHA-256 and asks for a success DSN, which comes back once', async () => {
    const aliceBefore = (await h.inbox(h.users.alice)).length;
    const bobBefore = (await h.inbox(h.users.bob)).length;
    const r = await msmtp(h.users.alice.address, h.users.alice.password, ['--dsn-notify=success', '--dsn-return=headers', h.users.bob.address], message('msmtp scram dsn'));
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/AUTH SCRAM-SHA-256/);
    expect(r.stdout + r.stderr).toMatch(/NOTIFY=SUCCESS/);
    const bob = await h.waitForInbox(h.users.bob, bobBefore + 1);
    expect((await h.blob(bob[bob.length - 1]!.blobId)).toString('utf8')).toContain('Subject: msmtp scram dsn');
    const alice = await h.waitForInbox(h.users.alice, aliceBefore + 1);
    const report = (await h.blob(alice[alice.length - 1]!.blobId)).toString('utf8');
    expect(report).toContain('report-type=delivery-status');
    expect(report).toMatch(/Final-Recipient: rfc822; bob@example\.test\r\nAction: delivered\r\nStatus: 2\.0\.0/);
    expect((await h.inbox(h.users.alice)).length).toBe(aliceBefore + 1);
  });

  it('fails a wrong password and an unknown account the same way, and sends nothing', async () => {
    const bobBefore = (await h.inbox(h.users.bob)).length;
    const wrong = await msmtp(h.users.alice.address, 'not the password', [h.users.bob.address], message('msmtp wrong'));
    const unknown = await msmtp('nobody@example.test', 'not the password', [h.users.bob.address], message('msmtp unknown'));
    for (const r of [wrong, unknown]) expect(r.code).not.toBe(0);
    const reply = (r: { stdout: string; stderr: string }) => /<-- (5\d\d[^\r\n]*)/.exec((r.stdout + r.stderr).split('AUTH SCRAM-SHA-256').slice(1).join(''))?.[1];
    expect(reply(wrong)).toBeDefined();
    expect(reply(wrong)).toBe(reply(unknown));
    expect((await h.inbox(h.users.bob)).length).toBe(bobBefore);
  });
});
