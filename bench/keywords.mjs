// IMAP keyword flood: one client adds thousands of new keywords to one
// message with STORE +FLAGS, while a second client connects to SMTP and waits
// for its greeting. Prints the time of each STORE, its tagged reply, and the
// greeting delay of the SMTP connection made during the last STORE.
//
//   npm run build && node bench/keywords.mjs
//
// BENCH_KEYWORDS (64000) keywords in total, BENCH_PER_STORE (8000) per STORE
// (one STORE line must fit IMAP's 64 KiB line limit). Everything listens on
// 127.0.0.1; the server is a child process stopped by its pid at the end.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';

const MAIN = new URL('../dist/cli/main.js', import.meta.url).pathname;
const TOTAL = Number(process.env.BENCH_KEYWORDS ?? 64_000);
const PER_STORE = Number(process.env.BENCH_PER_STORE ?? 8000);
const USER = 'flood@bench.test';
const PASSWORD = 'bench-password-1';

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const dir = mkdtempSync(path.join(tmpdir(), 'postern-kwbench-'));
const run = (args, input = '') => {
  const r = spawnSync(process.execPath, [MAIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`postern ${args.join(' ')} failed: ${r.stderr}`);
};
run(['init', '--domain', 'bench.test', '--dir', dir, '--hostname', 'mail.bench.test']);
const ports = { mx: await freePort(), sub: await freePort(), subs: await freePort(), imap: await freePort(), imaps: await freePort() };
const config = path.join(dir, 'bench.toml');
writeFileSync(
  config,
  `[server]
hostname = "mail.bench.test"
data_dir = "data"
[tls]
cert = "tls/cert.pem"
key = "tls/key.pem"
[smtp.mx]
address = "127.0.0.1"
port = ${ports.mx}
[smtp.submission]
address = "127.0.0.1"
port = ${ports.sub}
[smtp.submissions]
address = "127.0.0.1"
port = ${ports.subs}
[imap]
address = "127.0.0.1"
port = ${ports.imap}
tls_port = ${ports.imaps}
[pop3]
enabled = false
[admin]
enabled = false
[integrity]
scrub_interval = 0
[log]
level = "error"
`,
);
run(['-c', config, 'user', 'add', USER], `${PASSWORD}\n`);

const server = spawn(process.execPath, [MAIN, '-c', config, 'start'], { stdio: ['ignore', 'ignore', 'pipe'] });
await new Promise((resolve, reject) => {
  let err = '';
  const t = setTimeout(() => reject(new Error(`server did not start:\n${err}`)), 30_000);
  server.stderr.on('data', (d) => {
    err += d;
    if (err.includes('postern is running')) {
      clearTimeout(t);
      resolve();
    }
  });
});

/** A line-based IMAP client over implicit TLS. */
function imapClient() {
  const sock = tls.connect({ host: '127.0.0.1', port: ports.imaps, rejectUnauthorized: false });
  let buf = '';
  const waiters = [];
  sock.on('data', (d) => {
    buf += d.toString('latin1');
    for (;;) {
      const w = waiters[0];
      if (!w) break;
      const re = new RegExp(`^${w.tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`, 'm');
      const m = re.exec(buf);
      if (!m) break;
      waiters.shift();
      const out = buf.slice(0, m.index + m[0].length);
      buf = buf.slice(m.index + m[0].length);
      w.resolve(out);
    }
  });
  let n = 0;
  return {
    cmd(line) {
      const tag = `a${++n}`;
      return new Promise((resolve) => {
        waiters.push({ tag, resolve });
        sock.write(`${tag} ${line}\r\n`);
      });
    },
    end: () => sock.end(),
  };
}

/** Milliseconds from connect() to the first byte of the SMTP greeting. */
function smtpGreeting() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = net.connect(ports.mx, '127.0.0.1');
    s.once('data', () => {
      resolve(performance.now() - t0);
      s.end('QUIT\r\n');
    });
    s.once('error', reject);
  });
}

try {
  const c = imapClient();
  await c.cmd(`LOGIN ${USER} "${PASSWORD}"`);
  const msg = 'Subject: flood\r\n\r\nbody\r\n';
  await new Promise((resolve) => setTimeout(resolve, 50));
  await c.cmd(`APPEND INBOX {${msg.length}+}\r\n${msg}`);
  await c.cmd('SELECT INBOX');
  console.log(`keyword flood: ${TOTAL} new keywords on one message, ${PER_STORE} per STORE`);
  const idle = [];
  for (let i = 0; i < 3; i++) idle.push(await smtpGreeting());
  console.log(`  SMTP greeting, idle server        ${Math.max(...idle).toFixed(1)} ms (max of 3)`);
  let total = 0;
  for (let k = 0; k < TOTAL; k += PER_STORE) {
    const kws = Array.from({ length: Math.min(PER_STORE, TOTAL - k) }, (_, i) => `k${k + i}`);
    const last = k + PER_STORE >= TOTAL;
    const t0 = performance.now();
    const store = c.cmd(`STORE 1 +FLAGS.SILENT (${kws.join(' ')})`);
    // The greeting of a connection made while the last (largest) STORE runs.
    const greeting = last ? new Promise((r) => setTimeout(r, 5)).then(smtpGreeting) : null;
    const reply = await store;
    const ms = performance.now() - t0;
    total += ms;
    const tagged = reply.trim().split('\r\n').pop();
    console.log(`  STORE ${String(k + kws.length).padStart(6)} keywords  ${ms.toFixed(1).padStart(9)} ms  ${tagged.slice(0, 70)}`);
    if (greeting) console.log(`  SMTP greeting during that STORE   ${(await greeting).toFixed(1)} ms`);
  }
  console.log(`  all STOREs                        ${total.toFixed(1)} ms`);
  const sel = await c.cmd('SELECT INBOX');
  const perm = /PERMANENTFLAGS \(([^)]*)\)/.exec(sel)?.[1] ?? '';
  console.log(`  SELECT afterwards: PERMANENTFLAGS lists ${perm.split(' ').length} flags, ${perm.includes('\\*') ? 'with' : 'without'} \\*`);
  c.end();
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
