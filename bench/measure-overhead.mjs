// What measuring costs: SMTP intake of two real postern processes side by
// side, one with measurement on (the defaults: an event per session and per
// accepted message, every event counted for Prometheus and logged) and one
// with it off ([metrics] enabled = false, message_events = false). Both keep
// the per-message delivery timestamps (they are part of the delivery
// transaction). The policy stages are off in both, so only measurement
// differs. Rounds alternate between the two, so drift on a shared machine
// hits both, and each waits until the previous round's mail is delivered;
// each round is bounded in messages and time.
//
//   npm run build && node bench/measure-overhead.mjs [--messages 2000] [--senders 20] [--rounds 4]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import nodemailer from 'nodemailer';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}
const MESSAGES = arg('messages', 2000);
const SENDERS = arg('senders', 20);
const ROUNDS = arg('rounds', 4);
const DEADLINE_MS = 180_000;
const MAIN = path.resolve('dist/cli/main.js');
const DOMAIN = 'bench.test';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function install(name, measuring) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `postern-overhead-${name}-`));
  const init = spawnSync(process.execPath, [MAIN, 'init', '--domain', DOMAIN, '--dir', dir, '--hostname', `mail.${DOMAIN}`], { encoding: 'utf8', timeout: 60_000 });
  if (init.status !== 0) throw new Error(`postern init failed: ${init.stderr}`);
  const mx = await freePort();
  const ports = [await freePort(), await freePort(), await freePort()];
  const config = path.join(dir, 'bench.toml');
  writeFileSync(
    config,
    `[server]
hostname = "mail.${DOMAIN}"
data_dir = "data"
[tls]
cert = "tls/cert.pem"
key = "tls/key.pem"
[smtp.mx]
address = "127.0.0.1"
port = ${mx}
[smtp.submission]
address = "127.0.0.1"
port = ${ports[0]}
[smtp.submissions]
address = "127.0.0.1"
port = ${ports[1]}
[imap]
enabled = false
[pop3]
enabled = false
[admin]
enabled = false
[delivery]
resolver = "127.0.0.1:${ports[2]}"
[policy.auth]
enabled = false
[policy.spoof]
enabled = false
[metrics]
enabled = ${measuring}
message_events = ${measuring}
[log]
level = "warn"
`,
  );
  const add = spawnSync(process.execPath, [MAIN, '-c', config, 'user', 'add', `rcpt@${DOMAIN}`], { input: 'bench-Secret-123456\n', encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`user add failed: ${add.stderr}`);
  const proc = spawn(process.execPath, [MAIN, '-c', config, 'start'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`postern did not start:\n${err}`)), 30_000);
    proc.stderr.on('data', (d) => {
      err += d.toString();
      if (err.includes('postern is running')) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`postern exited with ${code}:\n${err}`)));
  });
  return { name, dir, config, mx, proc, stop: () => new Promise((r) => (proc.exitCode !== null ? r() : (proc.once('exit', r), proc.kill('SIGTERM')))) };
}

function message(n) {
  const head = `From: sender@outside.test\r\nTo: rcpt@${DOMAIN}\r\nSubject: bench ${n}\r\nMessage-ID: <${n}.${process.pid}@outside.test>\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog 0123456789.\r\n';
  return head + line.repeat(Math.ceil((4096 - head.length) / line.length)).slice(0, 4096 - head.length);
}

/** Messages per second into one server's MX port from SENDERS concurrent connections. */
async function round(server, tag) {
  let next = 0;
  let sent = 0;
  let failed = 0;
  const start = performance.now();
  const worker = async () => {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: server.mx, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, maxMessages: Infinity, name: 'client.outside.test' });
    while (next < MESSAGES && performance.now() - start < DEADLINE_MS) {
      const n = next++;
      try {
        await t.sendMail({ envelope: { from: 'sender@outside.test', to: [`rcpt@${DOMAIN}`] }, raw: message(`${tag}-${n}`) });
        sent++;
      } catch {
        failed++;
      }
    }
    t.close();
  };
  await Promise.all(Array.from({ length: SENDERS }, worker));
  const s = (performance.now() - start) / 1000;
  return { rate: sent / s, sent, failed };
}

/** Waits until a server has delivered everything it accepted, so its deliveries do not slow the next round of the other. */
async function drained(server) {
  const until = performance.now() + 180_000;
  while (performance.now() < until) {
    const r = spawnSync(process.execPath, [MAIN, '-c', server.config, 'queue', 'list', '--json'], { encoding: 'utf8' });
    if (r.status === 0 && JSON.parse(r.stdout).length === 0) return;
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error(`${server.name}: the queue did not drain`);
}

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};

const on = await install('on', true);
const off = await install('off', false);
const rates = { on: [], off: [] };
try {
  // A warm-up round each, not counted: JIT, page cache, SQLite file growth.
  await round(on, 'warm');
  await drained(on);
  await round(off, 'warm');
  await drained(off);
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [off, on] : [on, off];
    for (const s of order) {
      const x = await round(s, `r${r}`);
      await drained(s);
      rates[s.name].push(x.rate);
      console.log(`round ${r + 1} measurement ${s.name.padEnd(3)}: ${x.rate.toFixed(0)} msg/s (${x.sent} sent, ${x.failed} failed)`);
    }
  }
} finally {
  await on.stop();
  await off.stop();
}
const events = spawnSync(process.execPath, [MAIN, '-c', on.config, 'report', '--since', '1d', '--format', 'json'], { encoding: 'utf8' });
const mOn = median(rates.on);
const mOff = median(rates.off);
console.log(`\nmedian of ${ROUNDS} rounds, ${MESSAGES} x 4 KiB messages, ${SENDERS} senders, ${os.cpus().length} cores:`);
console.log(`  measurement off: ${mOff.toFixed(0)} msg/s   (rounds: ${rates.off.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`  measurement on:  ${mOn.toFixed(0)} msg/s   (rounds: ${rates.on.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`  overhead: ${(((mOff - mOn) / mOff) * 100).toFixed(1)} %`);
if (events.status === 0) {
  try {
    const r = JSON.parse(events.stdout);
    console.log(`  (the measured server's report counts ${JSON.stringify(r.confidentiality?.inbound ?? r.confidentiality ?? {}).slice(0, 200)})`);
  } catch {
    /* the report is optional here */
  }
}
rmSync(on.dir, { recursive: true, force: true });
rmSync(off.dir, { recursive: true, force: true });
