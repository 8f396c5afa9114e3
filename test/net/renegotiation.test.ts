/**
 * Client-initiated TLS renegotiation is refused on every listener (IMAPS,
 * POP3S, SMTPS, and after STARTTLS/STLS on 143, 110, 25 and 587), checked with
 * `openssl s_client` sending "R" over TLS 1.2 (TLS 1.3 has no renegotiation),
 * and the server keeps serving afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/start.js';
import { parseConfig } from '../../src/config/index.js';
import { generateSelfSigned } from '../../src/crypto/selfsigned.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { freePort } from '../process/postern-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'postern-reneg-'));
let server: RunningServer | undefined;
const port: Record<string, number> = {};

beforeAll(async () => {
  const cert = await generateSelfSigned({ hostname: 'mail.example.test' });
  mkdirSync(path.join(dir, 'tls'));
  writeFileSync(path.join(dir, 'tls', 'cert.pem'), cert.certPem);
  writeFileSync(path.join(dir, 'tls', 'key.pem'), cert.keyPem, { mode: 0o600 });
  for (const k of ['mx', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s']) port[k] = await freePort();
  const listen = (p: number) => `address = "127.0.0.1"\nport = ${p}\n`;
  const parsed = parseConfig(
    `[server]\nhostname = "mail.example.test"\ndata_dir = "data"\n[delivery]\nenabled = false\n[admin]\nenabled = false\n[managesieve]\nenabled = false\n[log]\nlevel = "silent"\n` +
      `[smtp.mx]\n${listen(port.mx!)}[smtp.submission]\n${listen(port.submission!)}[smtp.submissions]\n${listen(port.submissions!)}` +
      `[imap]\n${listen(port.imap!)}tls_port = ${port.imaps}\n[pop3]\n${listen(port.pop3!)}tls_port = ${port.pop3s}\n`,
    dir,
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  server = await startServer(parsed.config, silentLogger());
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Connects with s_client, waits for the handshake, sends "R" (renegotiate) and returns everything s_client printed. */
function renegotiate(p: number, starttls?: string): Promise<string> {
  return new Promise((resolve) => {
    const args = ['s_client', '-tls1_2', '-connect', `127.0.0.1:${p}`, '-CAfile', path.join(dir, 'tls', 'cert.pem')];
    if (starttls) args.push('-starttls', starttls);
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let sent = false;
    const onData = (d: Buffer): void => {
      out += d.toString('latin1');
      if (!sent && /Verify return code: 0/.test(out)) {
        sent = true;
        child.stdin.write('R\n');
      }
      // Refused (our fix) or accepted (a second handshake): either way the answer is in.
      if (sent && (/no renegotiation/.test(out) || /RENEGOTIATING[\s\S]*verify return:1/.test(out))) child.stdin.end();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill(), 15_000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

const cases: [string, string, string | undefined, RegExp][] = [
  ['imaps (993)', 'imaps', undefined, /^\* OK/m],
  ['pop3s (995)', 'pop3s', undefined, /^\+OK/m],
  ['smtps (465)', 'submissions', undefined, /^220 /m],
  ['imap STARTTLS (143)', 'imap', 'imap', /^\* OK/m],
  ['pop3 STLS (110)', 'pop3', 'pop3', /^\+OK/m],
  ['smtp mx STARTTLS (25)', 'mx', 'smtp', /^220 /m],
  ['smtp submission STARTTLS (587)', 'submission', 'smtp', /^220 /m],
];

describe('client-initiated TLS renegotiation', () => {
  it.each(cases)('is refused on %s and the listener keeps serving', async (_name, key, starttls) => {
    const out = await renegotiate(port[key]!, starttls);
    expect(out).toMatch(/Verify return code: 0/);
    expect(out).toMatch(/RENEGOTIATING/);
    expect(out, 'OpenSSL must refuse the renegotiation').toMatch(/no renegotiation/);
    // Exactly one handshake: the certificate was verified once.
    expect(out.match(/verify return:1/g)?.length).toBe(1);
    // The same listener still answers a new client.
    const again = await renegotiate(port[key]!, starttls);
    expect(again).toMatch(/Verify return code: 0/);
  });
});
