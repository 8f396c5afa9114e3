// postern as a user runs it: `postern init` into a temp folder, the
// generated postern.toml with every listener moved to a free loopback port,
// the resolver pointed at a loopback NXDOMAIN server, then
// `node dist/cli/main.js start`. The pipeline (sender authentication,
// spoofing, attachments, malware engines, DLP) stays as init configured it,
// or, with `pipeline: false`, every policy stage is turned off (what the
// pipeline costs is the difference between the two).
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, onCleanup, run, start } from '../procs.mjs';
import { launchFlags } from '../../process-probe.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');
export const DOMAIN = 'bench.test';
export const RCPT = `rcpt@${DOMAIN}`;
export const PASSWORD = 'bench-Password-1';

/**
 * Rewrites init's postern.toml: listeners on 127.0.0.1 and the given ports,
 * `set` values per section (a key that is not in the file is added at the
 * top of its section; a null value removes the key). Sections and keys not named stay as init wrote them.
 */
export function editToml(text, set) {
  const lines = text.split('\n');
  let section = '';
  const seen = new Set();
  const out = [];
  const flush = (sec) => {
    for (const [k, v] of Object.entries(set[sec] ?? {})) if (v !== null && !seen.has(`${sec}.${k}`)) out.push(`${k} = ${v}`);
  };
  for (const line of lines) {
    const h = /^\[([^\]]+)\]/.exec(line);
    if (h) {
      section = h[1];
      out.push(line);
      flush(section);
      for (const k of Object.keys(set[section] ?? {})) seen.add(`${section}.${k}`);
      continue;
    }
    const kv = /^([A-Za-z_]+)\s*=/.exec(line);
    if (kv && set[section] && kv[1] in set[section]) continue; // already written at the top of the section
    out.push(line);
  }
  return out.join('\n');
}

/** Every policy stage `postern init` turns on, off. */
const PIPELINE_OFF = {
  'policy.auth': { enabled: false },
  'policy.spoof': { enabled: false },
  'policy.dmarc_reports': { enabled: false },
  'policy.attachments': { enabled: false },
  'policy.malware.static': { enabled: false },
  'policy.dlp': { rules: null }, // DLP is on when rules is set
};

/** Is clamd answering on its usual socket? (init leaves [policy.malware.clamav] commented out.) */
function clamdState(toml) {
  const configured = /^\[policy\.malware\.clamav\]/m.test(toml);
  const up = existsSync('/run/clamav/clamd.ctl');
  if (!configured) return `clamd not configured by init${up ? ' (a clamd runs)' : ', clamd not running'}: malware = static checks only`;
  return up ? 'clamd configured and running' : 'clamd configured but not running (messages wait: fail closed)';
}

/** Starts postern; returns { port(kind), pid, delivered(), config, stop() }. */
export async function startPostern(root, { dns, imap = false, tls, pipeline = true } = {}) {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build`);
  const dir = path.join(root, pipeline ? 'postern' : 'postern-bare');
  const init = await run(process.execPath, [MAIN, 'init', '--domain', DOMAIN, '--dir', dir, '--hostname', `mail.${DOMAIN}`], { timeoutMs: 120_000 });
  if (init.status !== 0) throw new Error(`postern init: ${init.stderr}`);
  const config = path.join(dir, 'postern.toml');
  if (tls) {
    // The run's shared certificate instead of init's, so STARTTLS cells compare servers, not key types.
    copyFileSync(tls.cert, path.join(dir, 'tls', 'cert.pem'));
    copyFileSync(tls.key, path.join(dir, 'tls', 'key.pem'));
  }
  const ports = { mx: await freePort(), submission: await freePort(), submissions: await freePort(), imap: await freePort(), imaps: await freePort(), pop3: await freePort(), pop3s: await freePort(), sieve: await freePort(), admin: await freePort() };
  const lo = '"127.0.0.1"';
  const toml = editToml(readFileSync(config, 'utf8'), {
    // One sending host opens 20 sessions at once, as smtp-source -s 20 does; a per-client limit of 20 would count closing ones too.
    smtp: { max_connections_per_client: 200, max_pending_per_client: 200 },
    'smtp.mx': { address: lo, port: ports.mx },
    'smtp.submission': { address: lo, port: ports.submission },
    'smtp.submissions': { address: lo, port: ports.submissions },
    imap: { enabled: imap, address: lo, port: ports.imap, tls_port: ports.imaps, max_connections_per_client: 20000, max_pending_per_client: 20000 },
    pop3: { enabled: false, address: lo, port: ports.pop3, tls_port: ports.pop3s },
    managesieve: { enabled: false, address: lo, port: ports.sieve },
    admin: { address: lo, port: ports.admin },
    delivery: { resolver: `"${dns}"` },
    log: { level: '"warn"' },
    ...(pipeline ? {} : PIPELINE_OFF),
  });
  writeFileSync(config, toml);
  const add = await run(process.execPath, [MAIN, '-c', config, 'user', 'add', RCPT], { input: `${PASSWORD}\n`, timeoutMs: 120_000 });
  if (add.status !== 0) throw new Error(`postern user add: ${add.stderr}`);
  const proc = await start(process.execPath, [...launchFlags(MAIN), MAIN, '-c', config, 'start'], { ready: (t) => t.includes('postern is running'), timeoutMs: 120_000 });
  onCleanup(() => proc.stop());
  const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  const git = await run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).catch(() => ({ stdout: '?' }));
  const db = await openCounter(path.join(dir, 'data', 'meta.sqlite'));
  return {
    name: pipeline ? 'postern' : 'postern-bare',
    port: ports.mx,
    ports,
    pid: proc.pid,
    dir,
    rcpt: RCPT,
    password: PASSWORD,
    delivered: () => db.count(),
    config: `postern ${version} (${git.stdout.trim()}), config from \`postern init\`${pipeline ? '' : ' with every policy stage off (auth, spoof, dmarc_reports, attachments, malware.static, dlp)'} with listeners on 127.0.0.1, [smtp] max_connections_per_client/max_pending_per_client 200, resolver: a loopback NXDOMAIN server; ${clamdState(toml)}; mx on 127.0.0.1:${ports.mx}`,
    stop: async () => {
      db.close();
      await proc.stop();
    },
  };
}

/** Counts delivered messages from the metadata database, read-only (WAL: no lock against the server). */
async function openCounter(file) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const stmt = db.prepare('SELECT count(*) AS n FROM messages');
  return { count: () => stmt.get().n, close: () => db.close() };
}

