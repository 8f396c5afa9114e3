// Store throughput on each backend: SQLite (+ file blobs) and PostgreSQL.
//   enqueue  C concurrent enqueues (one recipient each) until N are durable
//   append   C concurrent appends to ONE folder (UID allocation contention)
//   lease    4 workers lease 20 at a time and complete until the queue is empty
//   blob put C concurrent 64 KiB blob writes
// PostgreSQL runs in a database created for the run and dropped after it.
//
//   npm run build && node bench/store.mjs [postgres://postgres@127.0.0.1:5432]
//
// BENCH_N (default 2000) operations per step, BENCH_C (default 20) in flight.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, '..', 'dist');
const { openStore } = await import(path.join(dist, 'store/index.js'));
const { newQueueId } = await import(path.join(dist, 'core/ids.js'));

const SERVER = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432';
const N = Number(process.env.BENCH_N ?? 2000);
const C = Number(process.env.BENCH_C ?? 20);

/** Runs `n` calls of fn with `c` in flight; returns operations per second. */
async function rate(n, c, fn) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

async function run(name, store) {
  const m = store.meta;
  const blob = await store.blobs.put(Buffer.from('Subject: bench\r\n\r\nbody\r\n'));
  const msg = () => ({ id: newQueueId(), blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt: 1000, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} });
  const enqueue = await rate(N, C, () => m.queue.enqueue(msg(), [{ address: 'r@remote.test', transport: 'remote' }]));

  await m.directory.addDomain('example.org', 1);
  const user = await m.directory.addAccount({ address: 'bench@example.org', passwordHash: 'h' }, 1);
  const f = await m.mailboxes.createFolder(user.id, 'INBOX', null, 1);
  const append = await rate(N, C, (i) => m.mailboxes.append(f.id, { blobId: blob.id, size: blob.size, internalDate: i }));

  const t0 = performance.now();
  let leased = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (;;) {
        const ls = await m.queue.lease({ transport: 'remote', now: 2000, leaseMs: 600_000, limit: 20 });
        if (ls.length === 0) return;
        for (const l of ls) await m.queue.complete(l, 2001);
        leased += ls.length;
      }
    }),
  );
  const lease = leased / ((performance.now() - t0) / 1000);
  if (leased !== N) throw new Error(`${name}: leased ${leased} of ${N}`);

  const put = await rate(Math.min(N, 500), C, () => store.blobs.put(randomBytes(64 * 1024)));
  console.log(
    `${name.padEnd(10)} enqueue ${enqueue.toFixed(0).padStart(6)}/s   append ${append.toFixed(0).padStart(6)}/s   ` +
      `lease+complete ${lease.toFixed(0).padStart(6)}/s   blob put 64 KiB ${put.toFixed(0).padStart(5)}/s`,
  );
}

console.log(`${N} operations per step, ${C} in flight (${process.version})`);
const dir = mkdtempSync(path.join(tmpdir(), 'postern-bench-store-'));
try {
  const s = await openStore({ backend: 'sqlite', dataDir: dir });
  try {
    await run('sqlite', s);
  } finally {
    await s.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const db = `postern_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
await admin.connect();
await admin.query(`CREATE DATABASE ${db}`);
try {
  const s = await openStore({ backend: 'postgres', url: `${SERVER}/${db}`, dataDir: dir });
  try {
    await run('postgres', s);
  } finally {
    await s.close();
  }
} finally {
  await admin.query(`DROP DATABASE ${db} WITH (FORCE)`);
  await admin.end();
}
