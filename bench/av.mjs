// What malware scanning costs, with a real clamd (a tiny signature database
// written here; never freshclam):
//  1. scan throughput of the clamd engine for clean 50 KiB messages
//     (messages/s and MB/s) at 1, 4 and 8 connections, over the Unix socket
//     and over TCP;
//  2. SMTP intake on the MX from concurrent nodemailer senders (50 KiB
//     messages) with no malware stage, the stage in-line (the scan happens
//     before 250) and after the queue (250 once stored; the scan is the
//     scanner's work, not measured here).
//
//   npm run build && node bench/av.mjs [--messages 1000] [--senders 10]
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
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
import { ClamdEngine } from '../dist/policy/av/clamav.js';
import { malwareStage } from '../dist/policy/av/stage.js';
import { EngineWatch } from '../dist/policy/av/watch.js';
import { PolicyPipeline } from '../dist/policy/pipeline/index.js';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}
const MESSAGES = arg('messages', 1000);
const SENDERS = arg('senders', 10);
const HOST = 'mail.bench.test';
const RCPT = 'rcpt@bench.test';
const SIZE = 50 * 1024;

function message(n) {
  const head = `From: news@partner.test\r\nTo: ${RCPT}\r\nSubject: bench ${n}\r\nMessage-ID: <${n}.${process.pid}@partner.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nreport attached\r\n--b\r\nContent-Type: application/octet-stream; name="r${n}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
  const bytes = Buffer.alloc(Math.floor(((SIZE - head.length - 10) * 3) / 4));
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + n * 7) & 0xff;
  return Buffer.from(head + bytes.toString('base64').replace(/.{76}/g, '$&\r\n') + '\r\n--b--\r\n');
}
// Every message distinct: clamd caches the verdict of content it has seen (by hash), which would flatter repeats.
const corpus = Array.from({ length: MESSAGES + 100 }, (_, i) => message(i));

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function ping(socket) {
  return new Promise((resolve) => {
    const s = createConnection({ path: socket });
    let out = '';
    s.setTimeout(2000, () => s.destroy());
    s.on('error', () => resolve(false));
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out.includes('PONG')));
    s.on('connect', () => s.write('zPING\0'));
  });
}

async function startClamd() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-bench-clamd-'));
  await mkdir(path.join(dir, 'db'));
  const marker = ['EICAR', 'STANDARD', 'ANTIVIRUS', 'TEST', 'FILE'].join('-');
  await writeFile(path.join(dir, 'db', 'bench.ndb'), `Bench.EICAR.NDB:0:*:${Buffer.from(marker).toString('hex')}\n`);
  const socket = path.join(dir, 'clamd.sock');
  const port = await freePort();
  await writeFile(
    path.join(dir, 'clamd.conf'),
    `DatabaseDirectory ${dir}/db\nLocalSocket ${socket}\nTCPSocket ${port}\nTCPAddr 127.0.0.1\nForeground yes\nScanMail yes\nScanArchive yes\nStreamMaxLength 25M\nMaxThreads 12\nSelfCheck 0\n`,
  );
  const proc = spawn('/usr/sbin/clamd', ['-c', path.join(dir, 'clamd.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 300 && !(await ping(socket)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await ping(socket))) throw new Error('clamd did not start');
  return {
    socket,
    port,
    async stop() {
      await new Promise((r) => {
        proc.once('exit', r);
        proc.kill('SIGTERM');
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let serial = 1_000_000;
async function throughput(engine, connections, count) {
  let next = 0;
  let bytes = 0;
  let found = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < count) {
        next++;
        const m = message(serial++); // never seen by clamd before
        const r = await engine.scan(m, globalThis.AbortSignal.timeout(30_000));
        bytes += m.length;
        found += r.detections.length;
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  if (found > 0) throw new Error('clean messages were detected');
  return { rate: count / s, mbps: bytes / 1e6 / s };
}

async function server(policy) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-bench-'));
  const store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
  const now = systemClock.now();
  await store.meta.directory.addDomain('bench.test', now);
  await store.meta.directory.addAccount({ address: RCPT, passwordHash: await hashPassword('unused-Secret-2'), displayName: 'Rcpt Bench' }, now);
  const cert = await generateSelfSigned({ hostname: HOST });
  const deps = {
    hostname: HOST,
    directory: new Directory(store.meta.directory),
    spool: new Spool(store.blobs, store.meta.queue, systemClock),
    clock: systemClock,
    log: silentLogger(),
    tls: { cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' },
    limits: {
      maxMessageSize: 2 * 1024 * 1024, maxRecipients: 10, maxConnections: 200, maxConnectionsPerClient: 100, socketTimeoutMs: 60_000,
      maxPendingPerClient: 100, reservedConnections: 0, loginTimeoutMs: 60_000, commandTimeoutMs: 60_000, minTransferRate: 1024, bareNewline: 'reject',
    },
    authThrottle: new LoginThrottle(DEFAULT_LOGIN_THROTTLE, systemClock),
    memoryBudget: new MemoryBudget(512 * 1024 * 1024),
    ...(policy ? { policy } : {}),
  };
  const mx = createSmtpListener('mx', deps);
  const port = await mx.listen(0, '127.0.0.1');
  return { port, async close() { await mx.close(); await store.close(); await rm(dir, { recursive: true, force: true }); } };
}

async function intake(port, count = MESSAGES) {
  const transports = Array.from({ length: SENDERS }, () =>
    nodemailer.createTransport({ host: '127.0.0.1', port, pool: true, maxConnections: 1, maxMessages: Infinity, secure: false, ignoreTLS: true, name: 'mx.partner.test' }),
  );
  let next = 0;
  let ok = 0;
  let other = 0;
  const lat = [];
  const started = process.hrtime.bigint();
  await Promise.all(
    transports.map(async (t) => {
      while (next < count) {
        const n = next++;
        const t0 = process.hrtime.bigint();
        try {
          const info = await t.sendMail({ envelope: { from: 'news@partner.test', to: [RCPT] }, raw: corpus[n % corpus.length] });
          if (/^250 /.test(info.response)) ok++;
          else other++;
        } catch {
          other++;
        }
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const t of transports) t.close();
  lat.sort((a, b) => a - b);
  return { ok, other, rate: ok / seconds, p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)] };
}

const clamd = await startClamd();
try {
  console.log(`clamd engine, clean ${SIZE / 1024} KiB messages (${MESSAGES} per row):`);
  for (const [label, opts] of [
    ['unix', { socket: clamd.socket }],
    ['tcp ', { host: '127.0.0.1', port: clamd.port }],
  ]) {
    for (const c of [1, 4, 8]) {
      const engine = new ClamdEngine({ ...opts, maxConnections: c, timeoutMs: 30_000 });
      await throughput(engine, c, 50); // warm-up
      const r = await throughput(engine, c, MESSAGES);
      console.log(`  ${label} ${String(c).padStart(2)} connection(s): ${r.rate.toFixed(0).padStart(5)} messages/s  ${r.mbps.toFixed(1).padStart(6)} MB/s`);
      await engine.close();
    }
  }

  console.log(`\nSMTP intake on the MX, ${SENDERS} senders, ${MESSAGES} messages of ${SIZE / 1024} KiB:`);
  const engine = new ClamdEngine({ socket: clamd.socket, maxConnections: 8, timeoutMs: 30_000 });
  const configs = [
    ['no malware stage', null],
    ['in-line scan     ', 'inline'],
    ['after the queue  ', 'after-queue'],
  ];
  for (const [label, phase] of configs) {
    const policy = phase
      ? new PolicyPipeline(
          [{ stage: malwareStage([engine], { phase, directions: ['inbound'], action: phase === 'inline' ? 'reject' : 'quarantine', watch: new EngineWatch() }), settings: { budgetMs: 30_000, failOpen: false } }],
          { now: () => Date.now() },
        )
      : null;
    const s = await server(policy);
    await intake(s.port, 100); // warm-up
    const r = await intake(s.port);
    console.log(`  ${label}: ${r.rate.toFixed(0).padStart(5)} messages/s accepted (${r.ok} ok, ${r.other} other), latency p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
    await s.close();
  }
  await engine.close();
} finally {
  await clamd.stop();
}
