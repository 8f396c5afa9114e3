// Garbage collection: N messages appended and expunged, then one gc() run
// (with a clock past the grace hour). Prints the time, the blobs and bytes it
// reclaimed, the worst event-loop delay while it ran, and the events table
// before and after pruning E old events.
//
//   npm run build && node bench/gc.mjs [postgres://postgres@127.0.0.1:5432]
//
// BENCH_N (10000) messages of about 4 KiB, BENCH_EVENTS (200000) events older
// than the retention. SQLite always; PostgreSQL when a URL is given (a
// database created for the run and dropped after it).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const { openStore } = await import(path.join(dist, 'store/index.js'));
const { gc } = await import(path.join(dist, 'integrity/index.js'));

const N = Number(process.env.BENCH_N ?? 10_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const DAY = 86_400_000;

async function run(name, store, sizeOfEvents) {
  const d = store.meta.directory;
  await d.addDomain('bench.test', 1);
  const acct = await d.addAccount({ address: 'gc@bench.test', passwordHash: '$x' }, 1);
  const f = await store.meta.mailboxes.createFolder(acct.id, 'INBOX', null, 1);
  const uids = [];
  for (let i = 0; i < N; i += 64) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(64, N - i) }, () => store.blobs.put(Buffer.concat([Buffer.from('Subject: gc\r\n\r\n'), randomBytes(3000)]))),
    );
    for (const b of batch) uids.push((await store.meta.mailboxes.append(f.id, { blobId: b.id, size: b.size, internalDate: 1 })).uid);
  }
  await store.meta.mailboxes.putHeaderCache(
    (await store.meta.mailboxes.listMessages(f.id)).map((m) => ({ blobId: m.blobId, search: 's', detail: Buffer.alloc(200) })),
  );
  for (let i = 0; i < uids.length; i += 5000) await store.meta.mailboxes.expunge(f.id, uids.slice(i, i + 5000));
  const old = Date.now() - 400 * DAY;
  for (let i = 0; i < EVENTS; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, EVENTS - i) }, (_, j) => store.meta.events.record('auth.failed', '192.0.2.1', { n: i + j }, old + i + j)));
  }
  const eventsBefore = await store.meta.events.count('auth.failed');
  const sizeBefore = await sizeOfEvents();

  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const t0 = performance.now();
  const r = await gc(store, { clock: { now: () => Date.now() + 2 * 3_600_000 } });
  const ms = performance.now() - t0;
  h.disable();
  const eventsAfter = await store.meta.events.count('auth.failed');
  const sizeAfter = await sizeOfEvents();
  console.log(`${name}: gc of ${N} expunged messages and ${EVENTS} old events`);
  console.log(`  gc time                 ${ms.toFixed(0)} ms`);
  console.log(`  blobs removed           ${r.blobsRemoved} of ${r.blobsTotal}, ${(r.bytesRemoved / 1e6).toFixed(1)} MB reclaimed`);
  console.log(`  header cache rows       ${r.headerCacheRemoved} removed`);
  console.log(`  event-loop delay        max ${(h.max / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`);
  console.log(`  events                  ${eventsBefore} -> ${eventsAfter} rows (${r.eventsRemoved} removed); ${sizeBefore} -> ${sizeAfter}`);
}

const dir = mkdtempSync(path.join(tmpdir(), 'postern-gcbench-'));
try {
  const store = await openStore({ backend: 'sqlite', dataDir: dir });
  const db = store.meta.db;
  const sizeOf = async () => {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pages = db.pragma('page_count', { simple: true });
    const free = db.pragma('freelist_count', { simple: true });
    return `meta.sqlite ${(statSync(path.join(dir, 'meta.sqlite')).size / 1e6).toFixed(1)} MB (${free} of ${pages} pages free for reuse)`;
  };
  try {
    await run('sqlite', store, sizeOf);
  } finally {
    await store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2]) {
  const pg = (await import('pg')).default;
  const server = process.argv[2];
  const db = `postern_gcbench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  try {
    const store = await openStore({ backend: 'postgres', dataDir: '', url: `${server}/${db}` });
    const sizeOf = async () => {
      const r = await store.meta.pool.query("SELECT pg_total_relation_size('events') AS n");
      return `events table ${(Number(r.rows[0].n) / 1e6).toFixed(1)} MB (space reused after autovacuum)`;
    };
    try {
      await run('postgres', store, sizeOf);
    } finally {
      await store.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}
