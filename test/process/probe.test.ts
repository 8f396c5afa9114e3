/**
 * The synthetic probe in its own process (`postern probe run`) against a
 * real server that is up but hung: SIGSTOP for about five seconds, then
 * SIGCONT. The outage must be recorded once, with a plausible length, as
 * unplanned, and as planned inside a declared maintenance window; the probe
 * mailbox must be empty afterwards (read with Python's imaplib).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../../src/store/index.js';
import { cli, MAIN, makeInstallation, startServer, type Installation, type ServerProcess } from './postern-process.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PROBE = 'probe@example.test';
const PASSWORD = 'probe-password-0123';

let inst: Installation;
let server: ServerProcess;
let probe: ChildProcess;
let probeOut = '';

// The test's DNS server lives in this process: CLI calls while the probe runs must not block it (no spawnSync).
const cliAsync = (args: string[]) => run(process.execPath, [MAIN, '-c', inst.config, ...args], { timeout: 60_000 });

/** Resolves when the probe has logged `msg` `count` times in all. */
async function probeLogged(msg: string, count: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (probeOut.split(`"msg":"${msg}"`).length - 1 < count) {
    if (Date.now() > until) throw new Error(`the probe did not log "${msg}" ${count}x in ${timeoutMs} ms:\n${probeOut}`);
    if (probe.exitCode !== null) throw new Error(`the probe exited with ${probe.exitCode}:\n${probeOut}`);
    await sleep(100);
  }
}

async function events(kind: string): Promise<Record<string, unknown>[]> {
  const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
  try {
    return (await store.meta.events.list(kind)).reverse().map((e) => e.data);
  } finally {
    await store.close();
  }
}

/** Messages in the probe's INBOX, as Python's imaplib sees them. */
async function inboxCount(): Promise<number> {
  const script = [
    'import imaplib, ssl, sys',
    "c = ssl.create_default_context(cafile=sys.argv[1]); c.check_hostname = False",
    "m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[2]), ssl_context=c)",
    'm.login(sys.argv[3], sys.argv[4])',
    "typ, data = m.select('INBOX', readonly=True)",
    'print(int(data[0])); m.logout()',
  ].join('\n');
  const r = await run('/usr/bin/python3', ['-c', script, path.join(inst.dir, 'tls/cert.pem'), String(inst.ports.imaps), PROBE, PASSWORD], { timeout: 30_000 });
  return Number(r.stdout.trim());
}

async function hang(ms: number): Promise<void> {
  server.proc.kill('SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    server.proc.kill('SIGCONT');
  }
}

beforeAll(async () => {
  const extra = `[probe]\naddress = "${PROBE}"\npassword_file = "probe.password"\ninterval = 1\ntimeout = 3\n`;
  inst = await makeInstallation('example.test', extra, { imap: true, logLevel: 'info' });
  writeFileSync(path.join(inst.dir, 'probe.password'), `${PASSWORD}\n`, { mode: 0o600 });
  const add = cli(inst, ['user', 'add', PROBE], `${PASSWORD}\n`);
  if (add.status !== 0) throw new Error(add.stderr);
  server = await startServer(inst);
  probe = spawn(process.execPath, [MAIN, '-c', inst.config, 'probe', 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
  probe.stdout!.on('data', (d: Buffer) => (probeOut += d.toString()));
  probe.stderr!.on('data', (d: Buffer) => (probeOut += d.toString()));
  await probeLogged('probe round trip works', 1);
}, 90_000);

afterAll(async () => {
  if (probe && probe.exitCode === null) probe.kill('SIGKILL');
  await server?.kill();
  inst?.cleanup();
});

describe('the synthetic probe in its own process', () => {
  it('records one unplanned outage while the server is stopped for ~5 s', async () => {
    expect(await events('availability.downtime')).toEqual([]);
    const stoppedAt = Date.now();
    await hang(5000);
    const resumedAt = Date.now();
    await probeLogged('probe outage ended', 1);
    const downs = (await events('availability.downtime')).filter((d) => d.cause === 'probe');
    expect(downs).toHaveLength(1);
    const d = downs[0]!;
    expect(d).toMatchObject({ cause: 'probe', planned: false });
    expect(d.ms).toBeGreaterThanOrEqual(3000);
    expect(d.ms).toBeLessThanOrEqual(12_000);
    // The outage begins with a round that started at most one round (timeout 3 s + interval) before the stop.
    expect(d.from as number).toBeGreaterThanOrEqual(stoppedAt - 4000);
    expect(d.to as number).toBeGreaterThanOrEqual(resumedAt);
    expect(await events('probe.outage_started')).toHaveLength(1);
    const failures = await events('probe.failure');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures.every((f) => ['smtp', 'delivery', 'imap', 'timeout'].includes(f.stage as string))).toBe(true);
  }, 60_000);

  it('records the outage as planned inside a declared maintenance window', async () => {
    await cliAsync(['maintenance', 'start', '--reason', 'probe test']);
    await hang(5000);
    await probeLogged('probe outage ended', 2);
    await cliAsync(['maintenance', 'end']);
    const downs = (await events('availability.downtime')).filter((d) => d.cause === 'probe');
    expect(downs).toHaveLength(2);
    expect(downs[1]).toMatchObject({ cause: 'probe', planned: true });
    expect(downs[1]!.ms).toBeGreaterThanOrEqual(3000);
    expect(downs[1]!.ms).toBeLessThanOrEqual(12_000);
    expect(await events('probe.outage_started')).toHaveLength(2);
  }, 60_000);

  it('leaves the probe mailbox empty and stops cleanly without another outage', async () => {
    // Two more rounds, so a message of a round that timed out during the stop has been cleaned up.
    const more = probeOut.length;
    await sleep(2500);
    expect(probeOut.slice(more)).not.toContain('probe round failed');
    const exited = new Promise<number | null>((resolve) => probe.once('exit', (code) => resolve(code)));
    probe.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await inboxCount()).toBe(0);
    expect((await events('availability.downtime')).filter((d) => d.cause === 'probe')).toHaveLength(2);
    const once = await cliAsync(['probe', 'run', '--once']);
    expect(once.stdout).toMatch(/^ok: round trip in \d+ ms$/m);
    // Through submission, logged in as the probe account ([probe] is the file's last section).
    const viaSubmission = path.join(inst.dir, 'submission.toml');
    writeFileSync(viaSubmission, `${readFileSync(inst.config, 'utf8')}\nsmtp = "submission"\n`);
    const sub = await run(process.execPath, [MAIN, '-c', viaSubmission, 'probe', 'run', '--once'], { timeout: 60_000 });
    expect(sub.stdout).toMatch(/^ok: round trip in \d+ ms$/m);
    expect(await inboxCount()).toBe(0);
    // A server that is gone: one round fails at SMTP, exit status 1.
    await server.kill();
    const down = await run(process.execPath, [MAIN, '-c', inst.config, 'probe', 'run', '--once'], { timeout: 60_000 }).then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    );
    expect(down?.code).toBe(1);
    expect(down?.stdout).toMatch(/^failed at smtp after \d+ ms: .*ECONNREFUSED/m);
  }, 60_000);
});
