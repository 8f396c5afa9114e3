/**
 * testssl.sh (Debian's testssl.sh, /usr/bin/testssl) against every TLS
 * listener of one real postern process, all listeners at once: nothing rated
 * HIGH or CRITICAL, and `postern audit` says the same as testssl about which
 * protocol versions each listener offers. The certificate is issued by a
 * throwaway CA (passed with --add-ca) as a public CA would issue it, so the
 * findings are about postern's TLS settings, not a self-signed test
 * certificate. Checks run on every listener: protocols (-p) and cipher
 * categories (-s); on one (all listeners share one TLS configuration):
 * forward secrecy (-f) and the server's defaults and certificate (-S). The
 * vulnerability scan (-U) is left out: on a loaded machine it alone takes
 * minutes per listener.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { killAll, run } from '../support/procs.js';
import { postureInstallation, type PostureInstallation } from './installation.js';

const TESTSSL = '/usr/bin/testssl';
const LISTENERS = [
  { name: 'mx', starttls: 'smtp' },
  { name: 'submission', starttls: 'smtp' },
  { name: 'submissions' },
  { name: 'imap', starttls: 'imap' },
  { name: 'imaps' },
  { name: 'pop3', starttls: 'pop3' },
  { name: 'pop3s' },
  { name: 'admin' },
] as const;
// testssl's ids for protocol versions, and the names postern's audit uses.
const VERSIONS = [
  ['TLS1', 'TLSv1'],
  ['TLS1_1', 'TLSv1.1'],
  ['TLS1_2', 'TLSv1.2'],
  ['TLS1_3', 'TLSv1.3'],
] as const;

interface Finding {
  id: string;
  severity: string;
  finding: string;
}

let inst: PostureInstallation;
let server: ServerProcess | undefined;
const found = new Map<string, Finding[]>();
let audit: { checks: { id: string; grade: string; reason: string }[] };

beforeAll(async () => {
  if (!existsSync(TESTSSL)) throw new Error('testssl missing: apt-get install testssl.sh');
  inst = await postureInstallation('', 'ca');
  server = await startServer({ config: inst.config } as Installation, 60_000);
  const started = Date.now();
  const scans = LISTENERS.map(async (l) => {
    const json = path.join(inst.dir, `testssl-${l.name}.json`);
    const args = ['--quiet', '--color', '0', '--warnings', 'off', '--ip', 'one', '--nodns', 'min', '--connect-timeout', '20', '--openssl-timeout', '20'];
    // The TLS context is one for all listeners: forward secrecy and the certificate are looked at on one of them.
    args.push('--add-ca', inst.ca!, '--jsonfile', json, '-p', '-s', ...(l.name === 'imaps' ? ['-f', '-S'] : []));
    if ('starttls' in l) args.push('--starttls', l.starttls);
    args.push(`127.0.0.1:${inst.ports[l.name]}`);
    const r = await run(TESTSSL, args, { timeoutMs: 400_000, env: { HOME: inst.dir } });
    if (r.signal) throw new Error(`testssl on ${l.name} did not finish in time`);
    if (!existsSync(json)) throw new Error(`testssl wrote no result for ${l.name} (exit ${r.code}): ${r.stderr.slice(-500)}${r.stdout.slice(-500)}`);
    found.set(l.name, JSON.parse(readFileSync(json, 'utf8')) as Finding[]);
  });
  const own = run(process.execPath, [path.resolve('dist/cli/main.js'), '-c', inst.config, 'audit', '--json'], { timeoutMs: 300_000 });
  await Promise.all(scans);
  const r = await own;
  audit = JSON.parse(r.stdout) as typeof audit;
  console.log(`testssl on ${LISTENERS.length} listeners at once: ${Math.round((Date.now() - started) / 1000)} s`);
}, 600_000);

afterAll(async () => {
  killAll();
  await server?.kill();
  inst?.cleanup();
});

describe('testssl against every TLS listener', () => {
  it.each(LISTENERS.map((l) => l.name))('%s: nothing rated HIGH or CRITICAL', (name) => {
    const f = found.get(name)!;
    expect(f.filter((x) => x.id === 'TLS1_2').length, 'testssl ran its protocol checks').toBe(1);
    expect(f.filter((x) => x.severity === 'HIGH' || x.severity === 'CRITICAL').map((x) => `${x.id}: ${x.finding}`)).toEqual([]);
  });

  it.each(LISTENERS.map((l) => l.name))("%s: postern audit's protocol finding agrees with testssl's", (name) => {
    const f = found.get(name)!;
    const check = audit.checks.find((c) => c.id === `tls.${name}.protocols`);
    expect(check?.grade).toBe('pass');
    const accepted = /accepts ([^;]+)/.exec(check!.reason)![1]!.split(', ');
    for (const [id, version] of VERSIONS) {
      const offered = /^offered/.test(f.find((x) => x.id === id)?.finding ?? '');
      expect({ version, offered }).toEqual({ version, offered: accepted.includes(version) });
    }
    expect(accepted).toEqual(['TLSv1.2', 'TLSv1.3']);
  });
});

it('the certificate chain testssl saw is the one the audit graded', () => {
  expect(found.get('imaps')!.find((x) => x.id === 'cert_chain_of_trust')?.severity).toBe('OK');
  expect(audit.checks.find((c) => c.id === 'tls.certificate.chain')?.grade).toBe('warn'); // the throwaway CA is not in the system's store
});
