// Queue leases under a backlog (SQLite): N entries waiting for their scan and
// N delivered ones not yet purged, as a queue holds them when mail arrives
// faster than it is scanned. Times `leaseScan` (4 at a time, as the scanner
// takes them) and `lease` for local and remote delivery while nothing is due
// (what every wake-up of an agent costs), each the median of BENCH_CALLS calls.
//
//   npm run build && node bench/queue-lease.mjs [N ...]   (default 2000 10000)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const { SqliteMetaStore } = await import(path.join(dist, 'store/backends/sqlite/index.js'));
const CALLS = Number(process.env.BENCH_CALLS ?? 200);
const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timed(fn) {
  const out = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return median(out);
}

for (const n of sizes.length > 0 ? sizes : [2000, 10_000]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-queue-lease-'));
  try {
    const store = SqliteMetaStore.open(path.join(dir, 'meta.sqlite'));
    const db = store.db;
    const insM = db.prepare(
      "INSERT INTO queue_messages (id, blob_id, size, sender, received_at, source, client_address, auth_user, meta, verdicts) VALUES (?, ?, 4096, 's@x.test', ?, 'mx', '127.0.0.1', NULL, '{}', '[]')",
    );
    const insR = db.prepare("INSERT INTO queue_recipients (queue_id, address, transport, account_id, next_attempt_at, state) VALUES (?, 'r@x.test', 'local', NULL, ?, ?)");
    db.transaction(() => {
      for (let i = 0; i < 2 * n; i++) {
        const id = `Q${String(i).padStart(9, '0')}`;
        insM.run(id, `b${i}`, i);
        insR.run(id, i, i < n ? 'delivered' : 'scanning');
      }
    })();
    const now = Date.now();
    const scan = await timed(() => store.queue.leaseScan({ now, leaseMs: 60_000, limit: 4 }));
    const local = await timed(() => store.queue.lease({ transport: 'local', now, leaseMs: 30_000, limit: 64 }));
    const remote = await timed(() => store.queue.lease({ transport: 'remote', now, leaseMs: 30_000, limit: 64 }));
    console.log(JSON.stringify({ waitingForScan: n, delivered: n, calls: CALLS, leaseScanMs: +scan.toFixed(3), leaseLocalMs: +local.toFixed(3), leaseRemoteMs: +remote.toFixed(3) }));
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
