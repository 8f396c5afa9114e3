// What hostile SMTP clients cost everyone else. Two measurements, each
// bounded by a deadline:
//  - from:   event-loop delay (max, p99) while one authenticated submission
//            carries a From field of the given sizes;
//  - memory: peak RSS while N clients send a large message each over mx at
//            once, and how many of them got 250 or a 4xx.
//
//   npm run build && node bench/smtp-hostile.mjs [--dist dir] [--from 102400,1048576]
//        [--clients 40] [--size 8388608] [--budget-mib 64] [--seconds 180]
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { pathToFileURL } from 'node:url';
import nodemailer from 'nodemailer';

const argv = process.argv;
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i > 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const dist = path.resolve(arg('dist', new URL('../dist', import.meta.url).pathname));
const FROM_SIZES = arg('from', '102400,524288,1048576').split(',').map(Number).filter((n) => n > 0);
const CLIENTS = Number(arg('clients', 40));
const SIZE = Number(arg('size', 8 * 1024 * 1024));
const BUDGET_MIB = Number(arg('budget-mib', 512)); // used only by builds that have a memory budget
const SECONDS = Number(arg('seconds', 180));
const load = (p) => import(pathToFileURL(path.join(dist, p)).href);
const { systemClock } = await load('core/clock.js');
const { hashPassword } = await load('crypto/password.js');
const { generateSelfSigned } = await load('crypto/selfsigned.js');
const { Directory } = await load('directory/directory.js');
const { silentLogger } = await load('metrics/logger.js');
const { FailureThrottle } = await load('net/throttle.js');
const { Spool } = await load('queue/spool.js');
const { createSmtpListener } = await load('smtp/index.js');
const { openStore } = await load('store/index.js');
const budgetModule = await load('net/memory-budget.js').catch(() => null);

const DOMAIN = 'bench.test';
const HOST = 'mail.bench.test';
const SENDER = { address: `sender@${DOMAIN}`, password: 'bench-Secret-1' };
const RCPT = `rcpt@${DOMAIN}`;

async function setup() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-bench-'));
  const store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
  const now = systemClock.now();
  await store.meta.directory.addDomain(DOMAIN, now);
  await store.meta.directory.addAccount({ address: SENDER.address, passwordHash: await hashPassword(SENDER.password) }, now);
  await store.meta.directory.addAccount({ address: RCPT, passwordHash: await hashPassword('unused-Secret-2') }, now);
  const cert = await generateSelfSigned({ hostname: HOST });
  const throttle = () => new FailureThrottle({ maxFailures: 5, windowMs: 300_000, lockoutMs: 900_000 }, systemClock);
  const memoryBudget = budgetModule ? new budgetModule.MemoryBudget((BUDGET_MIB || 512) * 1024 * 1024) : undefined;
  const deps = {
    hostname: HOST,
    directory: new Directory(store.meta.directory),
    spool: new Spool(store.blobs, store.meta.queue, systemClock),
    clock: systemClock,
    log: silentLogger(),
    tls: { cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' },
    limits: {
      maxMessageSize: Math.max(2 * SIZE, 4 * 1024 * 1024), // room for the body's rounding to whole chunks
      maxRecipients: 10,
      maxConnections: 500,
      maxConnectionsPerClient: 500,
      socketTimeoutMs: 120_000,
      bareNewline: 'reject',
    },
    authThrottle: { byClient: throttle(), byAccount: throttle() },
    ...(memoryBudget ? { memoryBudget } : {}),
  };
  const listeners = {};
  const ports = {};
  for (const kind of ['mx', 'submission']) {
    listeners[kind] = createSmtpListener(kind, deps);
    ports[kind] = await listeners[kind].listen(0, '127.0.0.1');
  }
  return { dir, store, cert, listeners, ports, memoryBudget };
}

async function fromRun(env, size) {
  const t = nodemailer.createTransport({
    host: '127.0.0.1', port: env.ports.submission, secure: false, requireTLS: true, name: 'bench.client.test',
    tls: { ca: env.cert.certPem, servername: HOST },
    auth: { user: SENDER.address, pass: SENDER.password, method: 'PLAIN' },
    socketTimeout: SECONDS * 1000,
  });
  const raw = `From: ${SENDER.address} ${'a'.repeat(size)}\r\nTo: ${RCPT}\r\nSubject: hostile From\r\n\r\nbody\r\n`;
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const started = performance.now();
  let reply;
  try {
    reply = (await t.sendMail({ envelope: { from: SENDER.address, to: [RCPT] }, raw })).response;
  } catch (e) {
    reply = e.response ?? e.message;
  }
  h.disable();
  t.close();
  return { size, ms: performance.now() - started, maxDelay: h.max / 1e6, p99: h.percentile(99) / 1e6, reply: String(reply).slice(0, 60) };
}

/** One plain client on mx that sends SIZE bytes of body in 64 KiB writes; resolves with the final reply code. */
function bigSender(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    let step = 0;
    const timer = setTimeout(() => done('timeout'), SECONDS * 1000);
    const done = (code) => {
      clearTimeout(timer);
      s.destroy();
      resolve(code);
    };
    const script = ['EHLO bench.client.test', 'MAIL FROM:<x@remote.test>', `RCPT TO:<${RCPT}>`, 'DATA'];
    s.on('error', () => done('error'));
    s.on('close', () => done('closed'));
    s.on('data', async (b) => {
      buf += b.toString('latin1');
      for (let nl = buf.indexOf('\r\n'); nl >= 0; nl = buf.indexOf('\r\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line[3] === '-') continue;
        const code = Number(line.slice(0, 3));
        if (step < script.length) {
          if (code >= 400) return done(code);
          s.write(script[step++] + '\r\n');
        } else if (step === script.length) {
          step++;
          if (code !== 354) return done(code);
          const chunk = Buffer.from(('x'.repeat(998) + '\r\n').repeat(64));
          s.write('From: x@remote.test\r\nSubject: big\r\n\r\n');
          for (let sent = 0; sent < SIZE; sent += chunk.length) {
            if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
          }
          s.write('.\r\n');
        } else return done(code);
      }
    });
  });
}

async function memoryRun(env) {
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const codes = await Promise.all(Array.from({ length: CLIENTS }, () => bigSender(env.ports.mx)));
  clearInterval(sampler);
  const tally = {};
  for (const c of codes) tally[c] = (tally[c] ?? 0) + 1;
  return { base, peak, seconds: (performance.now() - started) / 1000, tally, inUse: env.memoryBudget?.used ?? null };
}

const env = await setup();
const mib = (b) => (b / 1024 / 1024).toFixed(0);
try {
  console.log(`postern hostile SMTP bench (${dist})`);
  for (const size of FROM_SIZES) {
    const r = await fromRun(env, size);
    console.log(`From of ${String(size).padStart(8)} B: ${r.ms.toFixed(0).padStart(7)} ms, event-loop delay max ${r.maxDelay.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; reply ${r.reply}`);
  }
  if (CLIENTS > 0) {
    const m = await memoryRun(env);
    console.log(
      `${CLIENTS} concurrent ${mib(SIZE)} MiB DATA on mx (budget ${env.memoryBudget ? `${BUDGET_MIB} MiB` : 'none'}): ` +
        `RSS ${mib(m.base)} -> peak ${mib(m.peak)} MiB, ${m.seconds.toFixed(1)} s, replies ${JSON.stringify(m.tally)}` +
        (m.inUse === null ? '' : `, budget in use after: ${m.inUse} B`),
    );
  }
} finally {
  await Promise.allSettled(Object.values(env.listeners).map((l) => l.close()));
  await env.store.close();
  await rm(env.dir, { recursive: true, force: true });
}
