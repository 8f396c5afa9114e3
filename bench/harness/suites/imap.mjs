// imap: bench/imap.mjs (a mailbox of 100,000 distinct messages, or fewer
// with --quick, and many IDLE connections) run once per server and
// repetition, postern and Dovecot alternating; its JSON rows become cells.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../procs.mjs';
import { rotation } from '../stats.mjs';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../imap.mjs');

/** The JSON array bench/imap.mjs prints after its table. */
export function parseImapOutput(stdout) {
  const at = stdout.indexOf('\n[');
  if (at < 0) throw new Error('bench/imap.mjs printed no JSON result');
  return JSON.parse(stdout.slice(at + 1));
}

const CELLS = [
  ['LOGIN+SELECT', 'ms', 'lower', (r) => r.loginSelectMs],
  ['UID FETCH 1:* (FLAGS)', 'ms', 'lower', (r) => r.fetchFlagsMs],
  ['FETCH bodies (BODY.PEEK[])', 'ms', 'lower', (r) => r.fetchBodiesMs],
  ['SEARCH HEADER Subject, later rounds', 'ms', 'lower', (r) => r.searchMs],
  ['FETCH ENVELOPE', 'ms', 'lower', (r) => r.envelopeMs],
  ['memory per IDLE connection (PSS)', 'KiB', 'lower', (r) => r.idle.perConnectionKiB],
  ['memory per IDLE connection (RSS, summed)', 'KiB', 'lower', (r) => r.idle.rssPerConnectionKiB],
];

export async function imapSuite({ reps, quick, only, rows, configs, problems }) {
  const messages = quick ? 2000 : 100_000;
  const idle = quick ? 200 : 2000;
  const fetch = Math.min(messages, 10_000);
  const servers = ['postern', 'dovecot'].filter((s) => !only || only.includes(s));
  if (servers.includes('dovecot') && !existsSync('/usr/sbin/dovecot')) {
    problems.push('Dovecot is not installed (apt-get install dovecot-imapd): postern alone');
    servers.splice(servers.indexOf('dovecot'), 1);
  }
  for (let r = 0; r < reps; r++) {
    for (const server of rotation(servers, r)) {
      const env = { ...process.env, BENCH_MESSAGES: String(messages), BENCH_FETCH: String(fetch), BENCH_IDLE: String(idle), BENCH_ROUNDS: '3', BENCH_SERVERS: server };
      console.error(`  imap | ${server} | rep ${r + 1}: ${messages} messages, ${idle} IDLE connections ...`);
      const res = await run(process.execPath, [SCRIPT], { env, timeoutMs: 3_600_000 });
      if (res.status !== 0) {
        problems.push(`bench/imap.mjs (${server}, repetition ${r + 1}) failed: ${res.stderr.slice(-500)}`);
        continue;
      }
      for (const row of parseImapOutput(res.stdout)) {
        const name = row.name.startsWith('dovecot') ? 'dovecot' : 'postern';
        if (name === 'dovecot') configs.dovecot = `${row.name}, private instance from bench/imap.mjs (own base_dir, Maildir, passwd-file, imaps on loopback, a process per connection)`;
        for (const [cell, unit, better, get] of CELLS) rows.add(`${cell} (${cell.startsWith('memory') ? `${idle} connections` : `${messages} msgs`})`, unit, better, name, get(row));
        if (row.idle.alive < row.idle.connections) problems.push(`${name}: only ${row.idle.alive} of ${row.idle.connections} IDLE connections held`);
      }
    }
  }
  configs.postern ??= 'postern IMAP listener over TLS as bench/imap.mjs starts it (SQLite store; password hashes at scrypt cost 2^10, Dovecot reads plain passwords: logins measure IMAP)';
  configs.load = `bench/imap.mjs: ${messages} distinct messages, FETCH of ${fetch}, ${idle} IDLE connections, 3 rounds inside each run (median), files ${process.env.BENCH_CACHE ?? 'cold'} in the page cache before each first read (BENCH_CACHE)`;
}
