// Scrapes of the admin listener's /metrics: the cost of one scrape when the
// store must be read (queue, events, delivery times) and when the 5 s cache
// answers, and a burst of concurrent scrapes (a scrape storm).
//
//   npm run build && node bench/admin-scrape.mjs
//
// BENCH_QUEUED (20000) messages are put in the queue with delivery off, and
// BENCH_EVENTS (20000) events in the event log, before the server starts.
// BENCH_BURST (500) concurrent scrapes over at most 256 sockets. Everything
// listens on 127.0.0.1; the server is a child process stopped by its pid.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const MAIN = new URL('../dist/cli/main.js', import.meta.url).pathname;
const { openStore } = await import(new URL('../dist/store/index.js', import.meta.url).pathname);
const QUEUED = Number(process.env.BENCH_QUEUED ?? 20_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const BURST = Number(process.env.BENCH_BURST ?? 500);
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

const dir = mkdtempSync(path.join(tmpdir(), 'postern-scrapebench-'));
const run = (args) => {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`postern ${args.join(' ')} failed: ${r.stderr}`);
};
run(['init', '--domain', 'bench.test', '--dir', dir, '--hostname', 'mail.bench.test']);
const ports = { mx: await freePort(), sub: await freePort(), subs: await freePort(), admin: await freePort() };
writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
const config = path.join(dir, 'bench.toml');
writeFileSync(
  config,
  `[server]
hostname = "mail.bench.test"
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
[delivery]
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

// Preload: queued remote mail (delivery is off, so it stays) and a long event log.
const store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
const blob = await store.blobs.put(Buffer.from('Subject: bench\r\n\r\nbody\r\n'));
const now = Date.now();
await Promise.all(
  Array.from({ length: QUEUED }, (_, i) =>
    store.meta.queue.enqueue(
      { id: `bench${i}`, blobId: blob.id, size: blob.size, sender: 's@bench.test', receivedAt: now - i * 1000, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} },
      [{ address: `r${i}@remote.test`, transport: 'remote' }],
    ),
  ),
);
for (let i = 0; i < EVENTS; i++) await store.meta.events.record(i % 2 ? 'server.heartbeat' : 'auth.result', 'bench', { dmarc: 'pass' }, now - (EVENTS - i) * 10);
await store.close();

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

const ca = readFileSync(path.join(dir, 'tls', 'cert.pem'));
let agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca, servername: 'mail.bench.test' });
const get = (p) =>
  new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = https.get({ host: '127.0.0.1', port: ports.admin, path: p, agent, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      let n = 0;
      res.on('data', (b) => (n += b.length));
      res.on('end', () => (res.statusCode === 200 ? resolve({ ms: performance.now() - t0, bytes: n }) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
const scrape = () => get('/metrics');
/** Waits past the gauges' 5 s cache while keeping the one connection busy (the server closes it after 5 s idle). */
const pastCache = async () => {
  for (let i = 0; i < 3; i++) {
    await sleep(1750);
    await get('/api/v1/event-kinds');
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

try {
  await scrape(); // TLS session and first read
  const uncached = [];
  for (let i = 0; i < 5; i++) {
    await pastCache(); // this scrape reads the store
    uncached.push((await scrape()).ms);
  }
  const cached = [];
  let bytes = 0;
  for (let i = 0; i < 200; i++) {
    const r = await scrape();
    cached.push(r.ms);
    bytes = r.bytes;
  }
  // A storm: many new TLS connections at once (the server takes up to 256).
  agent.destroy();
  agent = new https.Agent({ keepAlive: true, maxSockets: 200, ca, servername: 'mail.bench.test' });
  await sleep(5100);
  const t0 = performance.now();
  const burst = await Promise.all(Array.from({ length: BURST }, () => scrape()));
  const wall = performance.now() - t0;
  const b = burst.map((r) => r.ms);
  console.log(`queue ${QUEUED} messages, events ${EVENTS}; exposition ${bytes} bytes`);
  console.log(`scrape reading the store: ${uncached.map((x) => x.toFixed(1)).join(', ')} ms`);
  console.log(`scrape from the cache (200 in a row): p50 ${pct(cached, 0.5).toFixed(1)} ms, p99 ${pct(cached, 0.99).toFixed(1)} ms`);
  console.log(`burst of ${BURST} concurrent scrapes over 200 new connections (one store read): ${wall.toFixed(0)} ms in all, p50 ${pct(b, 0.5).toFixed(0)} ms, p99 ${pct(b, 0.99).toFixed(0)} ms, ${(BURST / (wall / 1000)).toFixed(0)} scrapes/s`);
} finally {
  agent.destroy();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
