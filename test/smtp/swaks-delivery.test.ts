import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queueIdOf, startHarness, stripOwnReceived, type Harness } from '../support/harness.js';
import { killAll } from '../support/procs.js';
import { swaks } from '../support/swaks.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => killAll());
afterAll(async () => {
  killAll();
  await h?.close();
});

describe('swaks delivers through submission', () => {
  for (const mode of ['--tls', '--tls-on-connect'] as const) {
    it(`with ${mode} and AUTH PLAIN; the INBOX holds exactly what was sent`, async () => {
      const port = mode === '--tls' ? h.ports.submission : h.ports.submissions;
      // With its own Date and Message-ID, submission adds nothing to it.
      // swaks sends the file with CRLF line ends, dot-stuffed, and ends it with CRLF "." CRLF.
      const body = `From: alice@example.test\nTo: victim@example.test\nSubject: swaks ${mode}\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <swaks${mode}@example.test>\n\n.dotted line\nlast line`;
      const file = await h.writeFile(`swaks${mode}.eml`, body);
      const sent = Buffer.from(body.replace(/\n/g, '\r\n') + '\r\n', 'latin1');
      const before = (await h.inbox(h.users.victim)).length;
      const r = await swaks([
        '--port', String(port), mode, '--tls-verify', '--tls-ca-path', h.caFile,
        '--auth', 'PLAIN', '--auth-user', h.users.alice.address, '--auth-password', h.users.alice.password,
        '--from', h.users.alice.address, '--to', h.users.victim.address, '--data', `@${file}`,
      ]);
      expect(r.code, r.transcript).toBe(0);
      const final = r.replies.find((l) => l.startsWith('250 2.0.0 Ok: queued as'));
      expect(final, r.transcript).toBeDefined();
      const inbox = await h.waitForInbox(h.users.victim, before + 1);
      const stored = await h.blob(inbox[inbox.length - 1]!.blobId);
      expect(stripOwnReceived(stored, queueIdOf(final!)).equals(sent)).toBe(true);
    });
  }

  it('pipelines a whole transaction when PIPELINING is offered', async () => {
    const r = await swaks([
      '--port', String(h.ports.submissions), '--tls-on-connect', '--tls-verify', '--tls-ca-path', h.caFile, '--pipeline',
      '--auth', 'LOGIN', '--auth-user', h.users.bob.address, '--auth-password', h.users.bob.password,
      '--from', h.users.bob.address, '--to', h.users.alice.address,
      '--header', 'From: bob@example.test', '--body', 'pipelined',
    ]);
    expect(r.code, r.transcript).toBe(0);
    expect(r.replies.some((l) => l.startsWith('250 2.0.0 Ok: queued as'))).toBe(true);
  });
});
