// What the policy pipeline costs. Three measurements, each bounded in count:
//  1. sender verification (SPF + DKIM + DMARC + ARC, RSA-2048 signed 4 KiB
//     messages, DNS answered from the cache) on the main thread: messages per
//     second on one core;
//  2. the same through the worker pool (policy.worker_threads = 2);
//  3. SMTP intake on the MX from 20 concurrent nodemailer senders, with the
//     pipeline off and on (auth + spoof in-line, in the pool), and the
//     latency of ordinary messages while hostile ones (a 900 KiB From field,
//     a worker that spins until its budget) are in flight.
//
//   npm run build && node bench/policy.mjs [--messages 2000] [--senders 20] [--separate]
// (--separate: the spoof stage parses in a task of its own instead of the auth stage's)
import { mkdtemp, rm } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { dkimSign } from 'mailauth';
import { systemClock } from '../dist/core/clock.js';
import { hashPassword } from '../dist/crypto/password.js';
import { generateSelfSigned } from '../dist/crypto/selfsigned.js';
import { Directory } from '../dist/directory/directory.js';
import { silentLogger } from '../dist/metrics/logger.js';
import { MemoryBudget } from '../dist/net/memory-budget.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from '../dist/net/throttle.js';
import { CachingResolver, MemoryResolver } from '../dist/net/dns/index.js';
import { Spool } from '../dist/queue/spool.js';
import { createSmtpListener } from '../dist/smtp/index.js';
import { openStore } from '../dist/store/index.js';
import { verifySender } from '../dist/policy/auth/index.js';
import { authStage } from '../dist/policy/auth/stage.js';
import { spoofStage } from '../dist/policy/spoof/stage.js';
import { PolicyPipeline } from '../dist/policy/pipeline/index.js';
import { PolicyPool } from '../dist/policy/pool/index.js';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}
const MESSAGES = arg('messages', 2000);
const SENDERS = arg('senders', 20);
const VERIFY = arg('verify', 500);
const HOST = 'mail.bench.test';
const RCPT = 'rcpt@bench.test';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' });
const pub = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const zone = {
  'partner.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
  '_dmarc.partner.test': { TXT: ['v=DMARC1; p=reject'] },
  'sel._domainkey.partner.test': { TXT: [`v=DKIM1; k=rsa; p=${pub}`] },
};
const resolver = new CachingResolver(new MemoryResolver(zone));

function plain(n) {
  const head = `From: Partner News <news@partner.test>\r\nTo: ${RCPT}\r\nSubject: bench ${n}\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${n}.${process.pid}@partner.test>\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog 0123456789.\r\n';
  return head + line.repeat(Math.ceil((4096 - head.length) / line.length)).slice(0, 4096 - head.length);
}

async function signed(n) {
  const raw = plain(n);
  const sig = { signingDomain: 'partner.test', selector: 'sel', privateKey: keyPem, canonicalization: 'relaxed/relaxed' };
  const r = await dkimSign(raw, { ...sig, signatureData: [sig], signTime: new Date() });
  return r.signatures + raw;
}

console.log('signing the test messages...');
const corpus = [];
for (let i = 0; i < Math.max(VERIFY, 200); i++) corpus.push(await signed(i));

// 1. Main thread, one core.
const input = (raw) => ({ raw: Buffer.from(raw), sender: 'news@partner.test', helo: 'mx.partner.test', ip: '127.0.0.1', authservId: HOST, mta: HOST });
const first = await verifySender(input(corpus[0]), resolver);
if (first.dmarc.result !== 'pass' || !first.dkim.some((s) => s.result === 'pass')) throw new Error(`bench message does not verify: ${first.header}`);
let t0 = process.hrtime.bigint();
for (let i = 0; i < VERIFY; i++) await verifySender(input(corpus[i % corpus.length]), resolver);
const mainRate = VERIFY / (Number(process.hrtime.bigint() - t0) / 1e9);

// 2. Through the pool, 16 in flight.
const pool = PolicyPool.open({ threads: 2, maxQueue: 256 });
await pool.run('auth.verify', input(corpus[0]), { budgetMs: 10_000, resolver });
t0 = process.hrtime.bigint();
let nextV = 0;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (nextV < VERIFY) {
      const i = nextV++;
      await pool.run('auth.verify', input(corpus[i % corpus.length]), { budgetMs: 10_000, resolver });
    }
  }),
);
const poolRate = VERIFY / (Number(process.hrtime.bigint() - t0) / 1e9);

// 3. SMTP intake, pipeline off and on.
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

const pipeline = new PolicyPipeline(
  [
    { stage: authStage({ pool, resolver, budgetMs: 10_000, authservId: HOST, mta: HOST, decision: {}, withSpoofFacts: !process.argv.includes('--separate') }), settings: { budgetMs: 10_000, failOpen: false } },
    {
      stage: spoofStage({ pool, budgetMs: 5000, phase: 'inline', actions: {}, context: async () => ({ localDomains: ['bench.test'], partnerDomains: [], people: [{ displayName: 'Rcpt Bench', address: RCPT }], internalNetworks: [] }) }),
      settings: { budgetMs: 5000, failOpen: false },
    },
  ],
  { now: () => Date.now(), banner: (raw, text, signal) => pool.run('spoof.banner', { raw, text }, { budgetMs: 5000, signal }) },
);

async function intake(port) {
  const transports = Array.from({ length: SENDERS }, () =>
    nodemailer.createTransport({ host: '127.0.0.1', port, pool: true, maxConnections: 1, maxMessages: Infinity, secure: false, ignoreTLS: true, name: 'mx.partner.test' }),
  );
  let next = 0;
  let ok = 0;
  let other = 0;
  const cpu0 = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(
    transports.map(async (t) => {
      while (next < MESSAGES) {
        const n = next++;
        try {
          const info = await t.sendMail({ envelope: { from: 'news@partner.test', to: [RCPT] }, raw: corpus[n % corpus.length] });
          if (/^250 /.test(info.response)) ok++;
          else other++;
        } catch {
          other++;
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  for (const t of transports) t.close();
  // CPU of the whole process (server, worker threads and the senders alike) per accepted message: steadier than a rate on a shared machine.
  return { ok, other, rate: ok / seconds, cpuMs: (cpu.user + cpu.system) / 1000 / Math.max(1, ok) };
}

/** Latency of single ordinary messages (one at a time) while `hostile` runs alongside. */
async function latency(port, hostile) {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, name: 'mx.partner.test' });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const bg = hostile ? hostile(port) : Promise.resolve();
  const ms = [];
  for (let i = 0; i < 40; i++) {
    const s = process.hrtime.bigint();
    await t.sendMail({ envelope: { from: 'news@partner.test', to: [RCPT] }, raw: corpus[i % corpus.length] }).catch(() => undefined);
    ms.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  await bg;
  loop.disable();
  t.close();
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length / 2)], p99: ms[Math.floor(ms.length * 0.99)], max: ms.at(-1), loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6 };
}

const bigFrom = `From: "${'A'.repeat(900 * 1024)}" <news@partner.test>\r\nTo: ${RCPT}\r\nSubject: big\r\n\r\nhi\r\n`;
async function hostileLoad(port) {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, pool: true, maxConnections: 4, secure: false, ignoreTLS: true });
  await Promise.all(Array.from({ length: 8 }, () => t.sendMail({ envelope: { from: 'news@partner.test', to: [RCPT] }, raw: bigFrom }).catch(() => undefined)));
  t.close();
}

const off = await server(null);
const rOff = await intake(off.port);
const lOff = await latency(off.port, null);
await off.close();
const on = await server(pipeline);
const rOn = await intake(on.port);
const lOn = await latency(on.port, null);
const lHostile = await latency(on.port, hostileLoad);
await on.close();
await pool.close();

const f = (x) => x.toFixed(1);
console.log(`\npostern policy benchmark (Node ${process.version}, ${os.cpus().length} cores)\n`);
console.log(`sender verification, SPF+DKIM+DMARC+ARC, RSA-2048, 4 KiB, DNS from cache:`);
console.log(`  main thread (one core):        ${mainRate.toFixed(0)} messages/s`);
console.log(`  worker pool, 2 threads:        ${poolRate.toFixed(0)} messages/s`);
console.log(`\nSMTP intake on the MX, ${SENDERS} senders, ${MESSAGES} signed 4 KiB messages:`);
console.log(`  pipeline off:                  ${rOff.rate.toFixed(0)} messages/s (${rOff.ok} accepted, ${rOff.other} other), ${rOff.cpuMs.toFixed(2)} ms CPU per message`);
console.log(`  pipeline on (auth + spoof):    ${rOn.rate.toFixed(0)} messages/s (${rOn.ok} accepted, ${rOn.other} other), ${rOn.cpuMs.toFixed(2)} ms CPU per message`);
console.log(`\none message at a time (40), ms p50 / p99 / max; event-loop delay of the server process, ms p99 / max:`);
console.log(`  pipeline off:                  ${f(lOff.p50)} / ${f(lOff.p99)} / ${f(lOff.max)}; loop ${f(lOff.loopP99)} / ${f(lOff.loopMax)}`);
console.log(`  pipeline on:                   ${f(lOn.p50)} / ${f(lOn.p99)} / ${f(lOn.max)}; loop ${f(lOn.loopP99)} / ${f(lOn.loopMax)}`);
console.log(`  on, 8 x 900 KiB From alongside: ${f(lHostile.p50)} / ${f(lHostile.p99)} / ${f(lHostile.max)}; loop ${f(lHostile.loopP99)} / ${f(lHostile.loopMax)}`);
