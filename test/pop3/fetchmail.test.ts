/** fetchmail (Debian) fetches a whole maildrop over POP3S into an MDA that writes files. */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN, HOST, sampleMessage, startPop3Fixture, type Pop3Fixture } from './harness.js';

const COUNT = 200;
let fx: Pop3Fixture;
const stored: Buffer[] = [];

/** Varied messages: the awkward sample, bodies of printable noise up to ~200 KB, 8-bit bytes. */
function message(i: number): Buffer {
  if (i % 4 === 0) return sampleMessage(i, `variant ${i}\r\n`);
  const lines: string[] = [];
  const n = i % 50 === 1 ? 3000 : 1 + (i % 40);
  for (let l = 0; l < n; l++) lines.push((l % 7 === 0 ? '.' : '') + randomBytes(30).toString('base64'));
  const head = `From: a@${DOMAIN}\r\nTo: user0@${DOMAIN}\r\nSubject: bulk ${i}\r\nMessage-ID: <bulk${i}@${DOMAIN}>\r\n\r\n`;
  return Buffer.concat([Buffer.from(head + lines.join('\r\n') + '\r\n', 'latin1'), Buffer.from([0xe9, 0xff, 0x0d, 0x0a])]);
}

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  fx = await startPop3Fixture({ users: 1 });
  for (let i = 1; i <= COUNT; i++) {
    const m = message(i);
    stored.push(m);
    await fx.deliver(fx.users[0]!, m);
  }
});
afterAll(async () => {
  await fx?.close();
});

describe('fetchmail', () => {
  it(`fetches all ${COUNT} messages over POP3S, verifying the certificate, byte for byte, and deletes them`, async () => {
    const u = fx.users[0]!;
    const out = path.join(fx.dir, 'fetched');
    mkdirSync(out);
    const mda = path.join(fx.dir, 'mda.sh');
    writeFileSync(mda, `#!/bin/sh\nexec cat > "$(mktemp '${out}/m.XXXXXXXX')"\n`);
    chmodSync(mda, 0o755);
    const rc = path.join(fx.dir, 'fetchmailrc');
    // fetchmail checks the certificate name, not IP addresses: sslcommonname names the host.
    // no stripcr: keep CRLF; --invisible and --norewrite: no Received header, no address rewriting.
    writeFileSync(
      rc,
      `poll ${HOST} service ${fx.ports.tls} protocol pop3 timeout 60\n` +
        `  user "${u.address}" password "${u.password}"\n` +
        `  ssl sslcertck sslcertfile "${fx.caFile}" sslcommonname "mail.${DOMAIN}"\n` +
        `  mda "${mda}"\n  no stripcr\n`,
      { mode: 0o600 },
    );
    const result = await new Promise<{ err: Error | null; stderr: string }>((resolve) =>
      execFile(
        'fetchmail',
        ['-f', rc, '--nosyslog', '--invisible', '--norewrite', '-i', path.join(fx.dir, 'fetchids')],
        { timeout: 120_000, env: { PATH: '/usr/bin:/bin', HOME: fx.dir, FETCHMAILHOME: fx.dir } },
        (err, _stdout, stderr) => resolve({ err, stderr }),
      ),
    );
    expect(result.err, result.stderr).toBeNull();

    const fetched = readdirSync(out).map((f) => readFileSync(path.join(out, f)));
    expect(fetched).toHaveLength(COUNT);
    expect(fetched.map(digest).sort()).toEqual(stored.map(digest).sort());
    // fetchmail deletes what it delivered (no "keep"): the maildrop is empty now.
    expect(await fx.inbox(u)).toHaveLength(0);
  });
});
