// npm run bench -- <suite> [--reps N] [--quick] [--install] [--only a,b]
//
// Runs one suite of side-by-side measurements (postern against Postfix,
// Haraka and Dovecot on loopback), prints the table and writes it with the
// raw repetitions to bench/out/. Everything it starts is stopped by pid at
// the end, on an error and on SIGINT/SIGTERM.
import { existsSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.mjs';
import { benchCert } from './certs.mjs';
import { startNxdomain } from './dns.mjs';
import { stopAll, run } from './procs.mjs';
import { hostInfo, Rows, writeReport } from './report.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../out');

/** Debian packages each suite's peers come from, with a file that shows each is installed. */
const NEEDS = {
  smtp: [['postfix', '/usr/sbin/smtp-source']],
  latency: [
    ['postfix', '/usr/sbin/smtp-source'],
    ['dovecot-imapd', '/usr/sbin/dovecot'],
  ],
  imap: [['dovecot-imapd', '/usr/sbin/dovecot']],
  store: [],
};

async function ensurePackages(suite, install, problems) {
  const missing = NEEDS[suite].filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
  if (missing.length === 0) return;
  const cmd = `apt-get install -y ${missing.join(' ')}`;
  if (install && process.getuid?.() === 0) {
    console.error(`installing ${missing.join(', ')} ...`);
    const r = await run('apt-get', ['install', '-y', ...missing], { timeoutMs: 900_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) problems.push(`${cmd} failed: ${r.stderr.slice(-500)}`);
  } else {
    problems.push(`not installed: ${missing.join(', ')}; run as root: ${cmd} (or npm run bench -- ${suite} --install)`);
    console.error(`missing peers: ${cmd}`);
  }
}

async function loadSuite(name) {
  const mod = await import(`./suites/${name}.mjs`);
  return mod[`${name}Suite`];
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const problems = [];
  await ensurePackages(args.suite, args.install, problems);
  const root = mkdtempSync(path.join(os.tmpdir(), `postern-bench-${args.suite}-`));
  // Peers' daemons run as other users (postfix, nobody) and must reach their folders.
  chmodSync(root, 0o755);
  const dns = await startNxdomain();
  const result = { suite: args.suite, quick: args.quick, reps: args.reps, startedAt: new Date().toISOString(), host: hostInfo(), rows: [], configs: {}, problems };
  const rows = new Rows();
  const stopping = (sig) => {
    console.error(`\n${sig}: stopping everything started ...`);
    stopAll()
      .finally(() => rmSync(root, { recursive: true, force: true }))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', stopping);
  process.once('SIGTERM', stopping);
  try {
    const tls = await benchCert(root);
    result.configs.certificate = tls.describe;
    const suite = await loadSuite(args.suite);
    await suite({ ...args, root, rows, configs: result.configs, problems, dns, tls });
  } finally {
    await stopAll();
    dns.close();
    result.rows = rows.rows;
    const { md, files } = writeReport(OUT, result);
    console.log(md);
    console.error(`written: ${files.join(', ')}`);
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e.stack ?? String(e));
  process.exitCode = 1;
});
