/**
 * The ManageSieve listener against real clients: Debian's sieve-connect
 * (STARTTLS, AUTHENTICATE PLAIN, upload, list, activate, download) and a raw
 * Python TLS client for what sieve-connect cannot show (refusals before
 * STARTTLS, an oversize script). One in-process listener over a real SQLite
 * store, with a self-signed certificate the clients verify.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { generateSelfSigned } from '../../src/crypto/selfsigned.js';
import { hashPassword } from '../../src/crypto/password.js';
import { Directory } from '../../src/directory/directory.js';
import { createManageSieveListener, DEFAULT_MANAGESIEVE_LIMITS, type ManageSieveListener } from '../../src/managesieve/index.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from '../../src/net/throttle.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';

const HOSTNAME = 'mail.example.test';
const USER = 'alice@example.test';
const PASSWORD = 'correct horse battery staple';
const SCRIPT = 'require "fileinto";\r\nif header :contains "subject" "[list]" {\r\n  fileinto "Lists";\r\n}\r\n';

let dir: string;
let store: Store;
let listener: ManageSieveListener;
let port: number;
let caFile: string;
let accountId: number;
const events: { kind: string; subject: string; data: Record<string, unknown> }[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with the password on fd 3 (sieve-connect --passwordfd 3); killed after 60 s. */
function run(cmd: string, args: string[], fd3 = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    (p.stdio[3] as NodeJS.WritableStream).end(fd3);
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const sieveConnect = (...args: string[]) =>
  run('sieve-connect', ['--server', '127.0.0.1', '--port', String(port), '--user', USER, '--passwordfd', '3', '--tlscafile', caFile, '--tlshostname', HOSTNAME, ...args], `${PASSWORD}\n`);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'postern-managesieve-'));
  store = await openStore({ backend: 'sqlite', dataDir: dir });
  await store.meta.directory.addDomain('example.test', Date.now());
  accountId = (await store.meta.directory.addAccount({ address: USER, passwordHash: await hashPassword(PASSWORD), displayName: 'Alice' }, Date.now())).id;
  const { certPem, keyPem } = await generateSelfSigned({ hostname: HOSTNAME, altNames: ['localhost'] });
  caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, certPem);
  listener = createManageSieveListener({
    hostname: HOSTNAME,
    directory: new Directory(store.meta.directory),
    sieve: store.meta.sieve,
    clock: systemClock,
    log: silentLogger(),
    tls: { cert: certPem, key: keyPem },
    authThrottle: new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, maxSourceFailures: 1000, delayMinMs: 0 }, systemClock),
    limits: DEFAULT_MANAGESIEVE_LIMITS,
    extensions: ['fileinto'],
    events: { record: (kind, subject, data) => void events.push({ kind, subject, data }) },
  });
  port = await listener.listen(0, '127.0.0.1');
}, 60_000);

afterAll(async () => {
  await listener?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ManageSieve with sieve-connect', () => {
  it('uploads over STARTTLS + PLAIN, lists ACTIVE after activating, downloads the same bytes', async () => {
    const local = path.join(dir, 'lists.sieve');
    writeFileSync(local, SCRIPT);
    const up = await sieveConnect('--upload', '--localsieve', local, '--remotesieve', 'lists');
    expect(up.code, up.stderr).toBe(0);
    expect((await store.meta.sieve.get(accountId, 'lists'))?.text).toBe(SCRIPT);

    const before = await sieveConnect('--list');
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout.trim().split('\n')).toEqual(['"lists"']);

    const act = await sieveConnect('--activate', '--remotesieve', 'lists');
    expect(act.code, act.stderr).toBe(0);
    const after = await sieveConnect('--list');
    expect(after.stdout.trim().split('\n')).toEqual(['"lists" ACTIVE']);
    expect(await store.meta.sieve.active(accountId)).toEqual({ name: 'lists', text: SCRIPT });

    const out = path.join(dir, 'back.sieve');
    const down = await sieveConnect('--download', '--remotesieve', 'lists', '--localsieve', out);
    expect(down.code, down.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(SCRIPT);
    expect(events.filter((e) => e.kind === 'sieve.script').map((e) => [e.subject, e.data.action, e.data.name])).toEqual([
      [USER, 'put', 'lists'],
      [USER, 'activate', 'lists'],
    ]);
  }, 120_000);

  it('a wrong password is refused', async () => {
    const r = await run('sieve-connect', ['--server', '127.0.0.1', '--port', String(port), '--user', USER, '--passwordfd', '3', '--tlscafile', caFile, '--tlshostname', HOSTNAME, '--list'], 'wrong\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Authentication failed|AUTHENTICATE/i);
  }, 120_000);
});

/** A raw ManageSieve client: prints each server response block, one per step. */
const PY = String.raw`
import socket, ssl, sys, base64
port, ca, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(('127.0.0.1', port), timeout=30)
f = s.makefile('rb')
def block():
    out = []
    while True:
        line = f.readline()
        if not line: out.append('<closed>'); break
        line = line.decode()
        out.append(line.rstrip('\r\n'))
        if line.startswith(('OK', 'NO', 'BYE')): break
        if line.startswith('{'):
            n = int(line[1:line.index('}')])
            out.append(f.read(n).decode().replace('\n', '\\n')); f.readline()
    print(' | '.join(out), flush=True)
def cmd(b):
    s.sendall(b); block()
block()                                                    # greeting: capabilities before TLS
plain = base64.b64encode(('\0%s\0%s' % (user, pw)).encode()).decode()
cmd(('AUTHENTICATE "PLAIN" "%s"\r\n' % plain).encode())     # refused before STARTTLS
cmd(b'LISTSCRIPTS\r\n')                                     # not logged in
cmd(b'STARTTLS\r\n')
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(s, server_hostname='mail.example.test')
f = s.makefile('rb')
block()                                                     # capabilities again, inside TLS
s.sendall(b'AUTHENTICATE "PLAIN"\r\n')
print(f.readline().decode().rstrip('\r\n'), flush=True)  # the empty challenge
cmd(('{%d+}\r\n%s\r\n' % (len(plain), plain)).encode())     # response as a literal
big = b'#' * (64 * 1024 + 1)
cmd(b'PUTSCRIPT "big" {%d+}\r\n' % len(big) + big + b'\r\n')
cmd(b'HAVESPACE "big" 70000\r\n')
cmd(b'PUTSCRIPT "two" {6+}\r\nkeep;\n\r\n')
cmd(b'SETACTIVE "two"\r\n')
cmd(b'DELETESCRIPT "two"\r\n')
cmd(b'RENAMESCRIPT "nope" "x"\r\n')
cmd(b'GETSCRIPT "two"\r\n')
cmd(b'LISTSCRIPTS\r\n')
cmd(b'LOGOUT\r\n')
`;

describe('ManageSieve protocol with a raw TLS client', () => {
  it('refuses logins before STARTTLS, takes PLAIN inside TLS, refuses an oversize script and keeps going', async () => {
    const r = await run('/usr/bin/python3', ['-c', PY, String(port), caFile, USER, PASSWORD]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/"SASL" "" \| "STARTTLS" \|/); // no mechanism before TLS
    expect(lines[1]).toBe('NO (ENCRYPT-NEEDED) "Authentication is only allowed inside TLS; use STARTTLS first"');
    expect(lines[2]).toBe('NO "Authenticate first"');
    expect(lines[3]).toBe('OK "Begin TLS negotiation now"');
    expect(lines[4]).toMatch(/"SASL" "PLAIN" \|/);
    expect(lines[4]).not.toMatch(/STARTTLS/);
    expect(lines[5]).toBe('""');
    expect(lines[6]).toBe('OK "Logged in"');
    expect(lines[7]).toBe('NO (QUOTA/MAXSIZE) "Script too large (at most 65536 bytes)"');
    expect(lines[8]).toBe('NO (QUOTA/MAXSIZE) "Script too large (at most 65536 bytes)"');
    expect(lines.slice(9)).toEqual([
      'OK "Script stored"',
      'OK "Script activated"',
      'NO (ACTIVE) "The active script cannot be deleted; deactivate it first"',
      'NO (NONEXISTENT) "No such script"',
      '{6} | keep;\\n | OK "Getscript completed"',
      '"lists" | "two" ACTIVE | OK "Listscripts completed"',
      'OK "Logout completed"',
    ]);
    expect(await store.meta.sieve.get(accountId, 'big')).toBeNull();
    expect(events.some((e) => e.kind === 'auth.plaintext_refused' && e.data.protocol === 'managesieve')).toBe(true);
  }, 120_000);
});
