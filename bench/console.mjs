// The web console under load of data: the overview page loaded in Debian's
// headless Chromium with a month of events in the store, and requests per
// second on /metrics (wrk, HTTPS, keep-alive).
//
//   npm run build && node bench/console.mjs
//
// BENCH_EVENTS (500000) events spread over 30 days of the kinds the overview
// reads, plus 100,000 delivery times, are written before the server starts.
// The administrator logs in with password + TOTP (enrolled with the one-time
// code of `postern console enroll`); each overview range (24h, 7d, 30d) is
// loaded BENCH_LOADS (5) times, timed from navigation start to the load event
// (Navigation Timing): the first load builds the overview, later ones within
// its refresh time are served the same one. /metrics: wrk with 8 connections for BENCH_WRK_S (10)
// seconds, once within the 5 s gauge cache's reach and once per store read.
// Needs /usr/bin/chromium and wrk (Debian). Everything listens on 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { chromium } from 'playwright-core';

const dist = new URL('../dist/', import.meta.url).pathname;
const MAIN = path.join(dist, 'cli/main.js');
const { openStore } = await import(path.join(dist, 'store/index.js'));
const { totpCode, TOTP_STEP_MS } = await import(path.join(dist, 'admin/console/codes.js'));
const EVENTS = Number(process.env.BENCH_EVENTS ?? 500_000);
const LOADS = Number(process.env.BENCH_LOADS ?? 5);
const WRK_S = Number(process.env.BENCH_WRK_S ?? 10);
const DAY = 86_400_000;
const HOST = 'mail.bench.test';
const ADMIN = 'admin@bench.test';
const PASSWORD = 'bench password for the console';
const TOKEN = randomBytes(32).toString('base64url');

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const dir = mkdtempSync(path.join(tmpdir(), 'postern-consolebench-'));
const config = path.join(dir, 'bench.toml');
const run = (args, input) => {
  const r = spawnSync(process.execPath, [MAIN, '-c', config, ...args], { encoding: 'utf8', timeout: 120_000, input });
  if (r.status !== 0) throw new Error(`postern ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};

const ports = { mx: await freePort(), sub: await freePort(), subs: await freePort(), admin: await freePort() };
spawnSync(process.execPath, [MAIN, 'init', '--domain', 'bench.test', '--dir', dir, '--hostname', HOST], { encoding: 'utf8', timeout: 60_000 });
writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
writeFileSync(
  config,
  `[server]
hostname = "${HOST}"
data_dir = "data"
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
enabled = false
[pop3]
enabled = false
[admin]
address = "127.0.0.1"
port = ${ports.admin}
metrics_token_file = "token"
[integrity]
scrub_interval = 0
gc_interval = 0
[log]
level = "error"
`,
);
run(['user', 'add', ADMIN, '--role', 'mailadmin'], `${PASSWORD}\n`);

// A month of events, in the proportions a busy MX sees, written the way the server appends them.
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
const MIX = [
  ['smtp.session', 0.2, () => ['c', { listener: pick(['mx', 'mx', 'mx', 'submission']), tls: pick(['TLSv1.3', 'TLSv1.3', 'TLSv1.2', 'none']) }]],
  ['smtp.message', 0.35, () => ['q', { listener: pick(['mx', 'mx', 'submission']), tls: pick(['TLSv1.3', 'TLSv1.3', 'TLSv1.2', 'none']) }]],
  ['relay.message', 0.15, () => ['q', { tls: pick(['TLSv1.3', 'TLSv1.2', 'none']), policy: pick(['opportunistic', 'dane', 'mta-sts']) }]],
  ['auth.result', 0.15, () => ['q', { spf: 'pass', dkim: pick(['pass', 'pass', 'fail']), dmarc: pick(['pass', 'pass', 'fail']), arc: 'none', action: 'accept' }]],
  ['tls.failure', 0.03, () => [`d${Math.floor(Math.random() * 50)}.example`, { policy: 'dane', resultType: 'validation-failure' }]],
  ['dlp.match', 0.03, () => ['q', { rule: pick(['iban', 'card']), group: pick(['finance', 'legal']), direction: 'outbound', action: 'quarantine' }]],
  ['spoof.detected', 0.03, () => ['q', { detector: pick(['lookalike', 'display-name']), origin: 'outside', result: 'fail', action: 'tag' }]],
  ['malware.detected', 0.01, () => ['q', { engine: 'clamav', direction: 'inbound' }]],
  ['integrity.corrected', 0.02, () => ['blob', { area: 'data', block: 1, bit: 7 }]],
  ['server.heartbeat', 0.03, () => ['node', {}]],
];
const now = Date.now();
const start = now - 30 * DAY;
await (await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') })).close();
const db = new Database(path.join(dir, 'data', 'meta.sqlite'));
db.pragma('journal_mode = WAL');
const rows = [];
for (let i = 0; i < EVENTS; i++) {
  const r = Math.random();
  let acc = 0;
  let spec = MIX.at(-1);
  for (const m of MIX) if ((acc += m[1]) >= r) { spec = m; break; }
  const [subject, data] = spec[2]();
  rows.push([start + Math.floor(Math.random() * 30 * DAY), spec[0], subject, JSON.stringify(data)]);
}
for (let d = 0; d < 30; d++) {
  rows.push([start + d * DAY + 3_600_000, 'integrity.scrub_completed', 'store', '{"clean":true}']);
  const from = start + d * DAY + Math.floor(Math.random() * DAY);
  rows.push([from + 120_000, 'availability.downtime', 'node', JSON.stringify({ cause: 'probe', planned: false, from, to: from + 120_000, ms: 120_000 })]);
}
rows.sort((a, b) => a[0] - b[0]);
const ins = db.prepare('INSERT INTO events (at, kind, subject, data) VALUES (?, ?, ?, ?)');
db.transaction(() => { for (const r of rows) ins.run(...r); })();
const dins = db.prepare('INSERT INTO delivery_times (queue_id, direction, received_at, delivered_at, ms) VALUES (?, ?, ?, ?, ?)');
db.transaction(() => {
  for (let i = 0; i < 100_000; i++) {
    const at = start + Math.floor(Math.random() * 30 * DAY);
    const ms = Math.floor(50 + Math.random() ** 4 * 60_000);
    dins.run(`Q${i}`, pick(['inbound', 'internal', 'outbound']), at - ms, at, ms);
  }
})();
db.exec('ANALYZE');
db.close();
console.log(`${rows.length.toLocaleString('en-US')} events over 30 days and 100,000 delivery times in the store`);

const enroll = run(['console', 'enroll', ADMIN]);
const code = /: ([A-Z2-7]{4}(?:-[A-Z2-7]{4}){4})\n/.exec(enroll)?.[1];
if (!code) throw new Error(`no enrollment code in: ${enroll}`);

const server = spawn(process.execPath, [MAIN, '-c', config, 'start'], { stdio: ['ignore', 'ignore', 'pipe'] });
await new Promise((resolve, reject) => {
  let err = '';
  const t = setTimeout(() => reject(new Error(`server did not start:\n${err}`)), 60_000);
  server.stderr.on('data', (d) => {
    err += d;
    if (err.includes('postern is running')) {
      clearTimeout(t);
      resolve();
    }
  });
});

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const unbase32 = (s) => {
  let bits = '';
  for (const ch of s.replace(/[\s=-]/g, '').toUpperCase()) bits += B32.indexOf(ch).toString(2).padStart(5, '0');
  return Uint8Array.from(bits.match(/.{8}/g) ?? [], (b) => parseInt(b, 2));
};
const spki = () => {
  const pub = spawnSync('openssl', ['x509', '-in', path.join(dir, 'tls/cert.pem'), '-noout', '-pubkey'], { timeout: 30_000 }).stdout;
  const der = spawnSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub, timeout: 30_000 }).stdout;
  return createHash('sha256').update(der).digest('base64');
};
const med = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const origin = `https://${HOST}:${ports.admin}`;

let browser;
try {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 60_000,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--host-resolver-rules=MAP ${HOST} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spki()}`],
  });
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${origin}/console/login`);
  await page.fill('input[name=address]', ADMIN);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(/\/console\/enroll$/), page.click('main button[type=submit]')]);
  await page.fill('input[name=code]', code);
  await Promise.all([page.waitForURL(/\/console\/enroll$/), page.click('button[type=submit]')]);
  await Promise.all([page.waitForURL(/\/console\/enroll\/totp$/), page.click('form[action="/console/enroll/totp"] button')]);
  const secret = unbase32((await page.textContent('#totp-secret')).trim());
  await page.fill('input[name=code]', totpCode(secret, Math.floor(Date.now() / TOTP_STEP_MS)));
  await Promise.all([page.waitForURL(/\/console\/overview$/, { timeout: 120_000 }), page.click('main button[type=submit]')]);

  console.log(`overview in Chromium, navigation start → load event, ${LOADS} loads each (ms):`);
  for (const range of ['24h', '7d', '30d']) {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < LOADS; i++) {
      await page.goto(`${origin}/console/overview?range=${range}`, { timeout: 120_000 });
      const t = await page.evaluate(() => {
        const n = globalThis.performance.getEntriesByType('navigation')[0];
        return { load: n.loadEventEnd - n.startTime, ttfb: n.responseStart - n.startTime, size: n.transferSize };
      });
      times.push(t);
      bytes = t.size;
    }
    const bars = await page.locator('figure svg rect').count();
    const rest = times.slice(1);
    console.log(`  ${range.padEnd(4)} first load (builds the overview) ${times[0].load.toFixed(0)} ms, first byte ${times[0].ttfb.toFixed(0)} ms; later loads (shared for up to its refresh time) median ${rest.length ? med(rest.map((t) => t.load)).toFixed(0) : '-'} ms; ${(bytes / 1024).toFixed(1)} KiB, ${bars} bars`);
  }

  // /metrics: wrk keeps its 8 connections alive; the gauges read the store at most once per 5 s.
  const wrk = spawnSync('wrk', ['-t', '2', '-c', '8', '-d', `${WRK_S}s`, '--latency', '-H', `Authorization: Bearer ${TOKEN}`, `https://127.0.0.1:${ports.admin}/metrics`], { encoding: 'utf8', timeout: (WRK_S + 30) * 1000 });
  if (wrk.status !== 0) throw new Error(`wrk failed: ${wrk.stderr}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout)?.[1];
  const p50 = /50%\s+(\S+)/.exec(wrk.stdout)?.[1];
  const p99 = /99%\s+(\S+)/.exec(wrk.stdout)?.[1];
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(wrk.stdout)?.[1] ?? '0';
  console.log(`/metrics with wrk, 8 keep-alive connections, ${WRK_S} s: ${rps} requests/s, latency p50 ${p50}, p99 ${p99}, non-2xx ${non2xx}`);
} finally {
  await browser?.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
