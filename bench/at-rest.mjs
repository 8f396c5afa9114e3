// Encryption at rest: what it costs to encrypt one 50 KiB message to a user's
// certificate (RSA-3072 and P-256, AES-256-GCM), in-process and through the
// worker pool ('smime.encrypt', as local delivery runs it), and local
// delivery throughput into a real SQLite store with and without encryption
// at rest (the queue's clear copy is also removed after an encrypted delivery).
//
//   npm run build && node bench/at-rest.mjs
//   BENCH_ROUNDS=50 BENCH_MESSAGES=300 node bench/at-rest.mjs
//
// Keys are made with the openssl CLI in a temp directory. Per-message figures
// are the best of three rounds of BENCH_ROUNDS operations (default 50).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { TASKS } = await import(dist('policy/pool/tasks.js'));
const { PolicyPool } = await import(dist('policy/pool/index.js'));
const { parseCertificate } = await import(dist('crypto/smime/index.js'));
const { openStore } = await import(dist('store/index.js'));
const { Spool } = await import(dist('queue/spool.js'));
const { LocalDelivery } = await import(dist('delivery/local.js'));
const { AtRest } = await import(dist('mailbox/at-rest.js'));
const { provisionMailbox } = await import(dist('mailbox/provision.js'));
const { systemClock } = await import(dist('core/clock.js'));
const { silentLogger } = await import(dist('metrics/logger.js'));
const { newQueueId } = await import(dist('core/ids.js'));

const rounds = Number(process.env.BENCH_ROUNDS ?? 50);
const messages = Number(process.env.BENCH_MESSAGES ?? 200);
const tmp = mkdtempSync(join(tmpdir(), 'atrest-bench-'));
const make = (name, args) => {
  execFileSync('openssl', ['req', '-x509', '-newkey', ...args, '-nodes', '-keyout', join(tmp, `${name}.key`), '-out', join(tmp, `${name}.crt`), '-subj', `/CN=${name}`, '-days', '30'], { stdio: 'ignore' });
  return parseCertificate(readFileSync(join(tmp, `${name}.crt`), 'utf8'));
};
const certs = { 'RSA-3072': make('rsa3072', ['rsa:3072']), 'P-256': make('p256', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']) };

const body = randomBytes(37 * 1024).toString('base64').replace(/.{76}/g, '$&\r\n');
const message = (i) =>
  Buffer.from(
    `Received: from bench by mail.example.test (postern) with ESMTP id ${i}\r\n` +
      'From: a@remote.test\r\nTo: u@example.test\r\nSubject: bench\r\nDate: Fri, 4 Dec 2026 10:00:00 +0000\r\n' +
      `Message-ID: <${i}@remote.test>\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}`,
  );
const one = message('x');

async function measure(label, fn) {
  for (let i = 0; i < 5; i++) await fn();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) await fn();
    best = Math.min(best, (performance.now() - t0) / rounds);
  }
  console.log(`${label.padEnd(64)} ${best.toFixed(2).padStart(7)} ms  (${Math.round(1000 / best)}/s)`);
}

console.log(`message: ${(one.length / 1024).toFixed(1)} KiB; node ${process.version}; ${rounds} rounds`);
const pool = PolicyPool.open({ threads: 2, maxQueue: 1024 });
for (const [name, c] of Object.entries(certs)) {
  await measure(`encrypt -> ${name}, aes-256-gcm, in-process (DER as stored)`, () => TASKS['smime.encrypt']({ raw: one, certs: [c.der], cipher: 'aes-256-gcm' }));
  await measure(`encrypt -> ${name}, aes-256-gcm, through the pool`, () => pool.run('smime.encrypt', { raw: one, certs: [c.der], cipher: 'aes-256-gcm' }, { budgetMs: 30_000 }));
}

async function deliveryRun(label, encrypt, cert) {
  const store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(join(tmp, 'store-')) });
  try {
    await store.meta.directory.addDomain('example.test', 1);
    const acct = await store.meta.directory.addAccount({ address: 'u@example.test', passwordHash: 'x' }, 1);
    await provisionMailbox(store.meta.mailboxes, acct.id, 1);
    if (cert) {
      const fp = createHash('sha256').update(cert.der).digest('hex');
      await store.meta.certificates.put({ address: acct.address, der: cert.der, fingerprint: fp, source: 'uploaded', notBefore: 0, notAfter: Date.now() + 86_400_000 }, 1);
    }
    const spool = new Spool(store.blobs, store.meta.queue, systemClock);
    for (let i = 0; i < messages; i++) {
      await spool.accept({ queueId: newQueueId(), data: message(i), sender: 'a@remote.test', recipients: [{ address: acct.address, transport: 'local', accountId: acct.id }], source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} });
    }
    const opts = { batch: 64, leaseMs: 30_000, pollMs: 1000, retryMinMs: 1000, retryMaxMs: 8000, maxLifetimeMs: 86_400_000 };
    const agent = new LocalDelivery(store.meta.queue, store.meta.mailboxes, systemClock, silentLogger(), opts, store.meta.directory, undefined, store.blobs, store.meta.events);
    if (encrypt) {
      const settings = { accounts: [], groups: [], domains: ['example.test'], outerFields: ['From', 'To', 'Date', 'Subject', 'Message-ID'], cipher: 'aes-256-gcm', missingCertificate: 'deliver', budgetMs: 30_000 };
      agent.encryptAtRest(new AtRest(settings, { certificates: store.meta.certificates, blobs: store.blobs, directory: store.meta.directory, encrypt: (raw, c, cipher, budgetMs) => pool.run('smime.encrypt', { raw, certs: c, cipher }, { budgetMs }) }));
    }
    const t0 = performance.now();
    const n = await agent.pass();
    const ms = performance.now() - t0;
    if (n !== messages) throw new Error(`delivered ${n} of ${messages}`);
    console.log(`${`local delivery, ${label}`.padEnd(64)} ${(ms / n).toFixed(2).padStart(7)} ms/msg (${Math.round((n * 1000) / ms)} msg/s, ${n} messages)`);
  } finally {
    await store.close();
  }
}

await deliveryRun('clear (no encryption at rest)', false);
await deliveryRun('encrypted at rest to RSA-3072', true, certs['RSA-3072']);
await deliveryRun('encrypted at rest to P-256', true, certs['P-256']);
await pool.close();
rmSync(tmp, { recursive: true, force: true });
