/**
 * The probe inside the server ([probe] enabled = true): startServer runs it
 * with the server's own metrics registry; a probe that cannot run refuses
 * the start with the key at fault.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServer, type RunningServer } from '../../src/cli/start.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { cli, makeInstallation, type Installation } from './postern-process.js';

const PROBE = 'probe@example.test';
const PASSWORD = 'probe-password-4567';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let inst: Installation;
let server: RunningServer | undefined;

function config(): Config {
  const r = loadConfig(inst.config);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

beforeAll(async () => {
  const extra = `[probe]\nenabled = true\naddress = "${PROBE}"\npassword_file = "probe.password"\ninterval = 1\ntimeout = 30\n`; // a generous timeout: this test is about wiring, not about a slow machine
  inst = await makeInstallation('example.test', extra, { imap: true });
  writeFileSync(path.join(inst.dir, 'probe.password'), `${PASSWORD}\n`, { mode: 0o600 });
  const add = cli(inst, ['user', 'add', PROBE], `${PASSWORD}\n`);
  if (add.status !== 0) throw new Error(add.stderr);
}, 60_000);

afterAll(async () => {
  await server?.close();
  inst?.cleanup();
});

describe('the probe inside the server', () => {
  it('runs rounds and exposes postern_probe_up and the round trip histogram', async () => {
    server = await startServer(config(), silentLogger());
    const until = Date.now() + 30_000;
    let text = '';
    while (!/^postern_probe_round_trip_seconds_count [2-9]/m.test(text)) {
      if (Date.now() > until) throw new Error(`no two probe rounds in 30 s:\n${text.split('\n').filter((l) => l.includes('probe')).join('\n')}`);
      await sleep(200);
      text = await server.metrics.metrics();
    }
    expect(text).toMatch(/^postern_probe_up 1$/m);
    const script = [
      'import imaplib, ssl, sys',
      'c = ssl.create_default_context(cafile=sys.argv[1]); c.check_hostname = False',
      "m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[2]), ssl_context=c)",
      'm.login(sys.argv[3], sys.argv[4])',
      "typ, data = m.select('INBOX', readonly=True)",
      'print(int(data[0])); m.logout()',
    ].join('\n');
    await server.close();
    // After the stop no round is left half done: nothing of the probe stays in its mailbox.
    server = await startServer({ ...config(), probe: { ...config().probe, enabled: false } }, silentLogger());
    const r = await promisify(execFile)('/usr/bin/python3', ['-c', script, path.join(inst.dir, 'tls/cert.pem'), String(inst.ports.imaps), PROBE, PASSWORD], { timeout: 30_000 });
    expect(Number(r.stdout.trim())).toBe(0);
    expect(await server.store.meta.events.count('probe.failure')).toBe(0);
    expect(await server.store.meta.events.count('availability.downtime')).toBe(1); // the restart's own "stopped" downtime, not the probe's
    const downs = await server.store.meta.events.list('availability.downtime');
    expect(downs.map((d) => d.data.cause)).toEqual(['stopped']);
    await server.close();
    server = undefined;
  }, 90_000);

  it('refuses to start when the probe cannot run, naming the key', async () => {
    unlinkSync(path.join(inst.dir, 'probe.password'));
    await expect(startServer(config(), silentLogger())).rejects.toThrow(/probe\.password_file: cannot read .*probe\.password \(ENOENT\)/);
  });
});
