// How fast postern's SMTP side accepts mail: 20 concurrent nodemailer senders
// push 4 KiB messages, first over submission (STARTTLS + AUTH PLAIN, one
// authenticated connection per sender), then over plain SMTP to mx. Each run
// is bounded by a message count and a deadline. Reports messages/second and
// peak RSS, and checks that every 250 left exactly one message in the queue.
//
//   npm run build && node bench/smtp-accept.mjs [--messages 2000] [--senders 20] [--seconds 120]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import nodemailer from 'nodemailer';
import { systemClock } from '../dist/core/clock.js';
import { hashPassword } from '../dist/crypto/password.js';
import { generateSelfSigned } from '../dist/crypto/selfsigned.js';
import { Directory } from '../dist/directory/directory.js';
import { silentLogger } from '../dist/metrics/logger.js';
import { MemoryBudget } from '../dist/net/memory-budget.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from '../dist/net/throttle.js';
import { Spool } from '../dist/queue/spool.js';
import { createSmtpListener } from '../dist/smtp/index.js';
import { openStore } from '../dist/store/index.js';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}
const MESSAGES = arg('messages', 2000);
const SENDERS = arg('senders', 20);
const SECONDS = arg('seconds', 120);
const SIZE = 4096;

const DOMAIN = 'bench.test';
const HOST = 'mail.bench.test';
const SENDER = { address: `sender@${DOMAIN}`, password: 'bench-Secret-1' };
const RCPT = `rcpt@${DOMAIN}`;

function message(n) {
  const head = `From: ${SENDER.address}\r\nTo: ${RCPT}\r\nSubject: bench ${n}\r\nMessage-ID: <${n}.${process.pid}@${HOST}>\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog 0123456789.\r\n';
  return head + line.repeat(Math.ceil((SIZE - head.length) / line.length)).slice(0, SIZE - head.length);
}

async function setup() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-bench-'));
  const store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
  const now = systemClock.now();
  await store.meta.directory.addDomain(DOMAIN, now);
  await store.meta.directory.addAccount({ address: SENDER.address, passwordHash: await hashPassword(SENDER.password) }, now);
  await store.meta.directory.addAccount({ address: RCPT, passwordHash: await hashPassword('unused-Secret-2') }, now);
  const cert = await generateSelfSigned({ hostname: HOST });
  const deps = {
    hostname: HOST,
    directory: new Directory(store.meta.directory),
    spool: new Spool(store.blobs, store.meta.queue, systemClock),
    clock: systemClock,
    log: silentLogger(),
    tls: { cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' },
    limits: {
      maxMessageSize: 1024 * 1024,
      maxRecipients: 10,
      maxConnections: 200,
      maxConnectionsPerClient: 100,
      socketTimeoutMs: 60_000,
      maxPendingPerClient: 100,
      reservedConnections: 0,
      loginTimeoutMs: 60_000,
      commandTimeoutMs: 60_000,
      minTransferRate: 1024,
      bareNewline: 'reject',
    },
    authThrottle: new LoginThrottle(DEFAULT_LOGIN_THROTTLE, systemClock),
    memoryBudget: new MemoryBudget(512 * 1024 * 1024),
  };
  const listeners = {};
  const ports = {};
  for (const kind of ['mx', 'submission']) {
    listeners[kind] = createSmtpListener(kind, deps);
    ports[kind] = await listeners[kind].listen(0, '127.0.0.1');
  }
  return { dir, store, cert, listeners, ports };
}

function transport(env, kind) {
  const common = { host: '127.0.0.1', port: env.ports[kind], pool: true, maxConnections: 1, maxMessages: Infinity, name: 'bench.client.test' };
  if (kind === 'mx') return nodemailer.createTransport({ ...common, secure: false, ignoreTLS: true });
  return nodemailer.createTransport({
    ...common,
    secure: false,
    requireTLS: true,
    tls: { ca: env.cert.certPem, servername: HOST },
    auth: { user: SENDER.address, pass: SENDER.password, method: 'PLAIN' },
  });
}

async function pendingCount(store) {
  return (await store.meta.queue.listPending(10_000_000)).length;
}

async function runOnce(env, kind) {
  const before = await pendingCount(env.store);
  const transports = Array.from({ length: SENDERS }, () => transport(env, kind));
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError = null;
  const deadline = Date.now() + SECONDS * 1000;
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = process.hrtime.bigint();
  await Promise.all(
    transports.map(async (t) => {
      while (next < MESSAGES && Date.now() < deadline) {
        const n = next++;
        try {
          const info = await t.sendMail({ envelope: { from: SENDER.address, to: [RCPT] }, raw: message(n) });
          if (/^250 /.test(info.response)) ok++;
          else failed++;
        } catch (e) {
          failed++;
          firstError ??= e;
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  for (const t of transports) t.close();
  const queued = (await pendingCount(env.store)) - before;
  return { kind, sent: next, ok, failed, queued, seconds, rate: ok / seconds, peakRss: peak, firstError };
}

const env = await setup();
const results = [];
try {
  results.push(await runOnce(env, 'submission'));
  results.push(await runOnce(env, 'mx'));
} finally {
  await Promise.allSettled(Object.values(env.listeners).map((l) => l.close()));
  await env.store.close();
  await rm(env.dir, { recursive: true, force: true });
}

const mib = (b) => (b / 1024 / 1024).toFixed(0);
console.log(`\npostern SMTP accept benchmark: ${SENDERS} senders, ${SIZE} B messages, up to ${MESSAGES} per run or ${SECONDS} s\n`);
console.log('run                        | 250s  | failed | queued | seconds | msg/s  | peak RSS MiB');
console.log('---------------------------|-------|--------|--------|---------|--------|-------------');
for (const r of results) {
  const name = r.kind === 'mx' ? 'mx, plain SMTP' : 'submission, STARTTLS+AUTH';
  console.log(
    `${name.padEnd(27)}| ${String(r.ok).padStart(5)} | ${String(r.failed).padStart(6)} | ${String(r.queued).padStart(6)} | ${r.seconds.toFixed(2).padStart(7)} | ${r.rate.toFixed(0).padStart(6)} | ${mib(r.peakRss).padStart(12)}`,
  );
}
let bad = false;
for (const r of results) {
  if (r.queued !== r.ok) {
    console.error(`MISMATCH in ${r.kind}: ${r.ok} replies of 250 but ${r.queued} messages queued`);
    bad = true;
  }
  if (r.firstError) console.error(`${r.kind}: first error: ${r.firstError.message}`);
}
console.log(bad ? '\nqueue check FAILED' : '\nqueue check: every 250 has exactly one queued message');
process.exitCode = bad ? 1 : 0;
