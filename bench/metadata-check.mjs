// The metadata check (scrub's quick and full modes) on a store of N
// messages, and what it costs everyone else: the worst event-loop delay
// while it runs. The check runs in a worker thread (its own read-only
// connection); for comparison, the same pragmas on the server's own
// connection, as the check ran before.
//
//   npm run build && node bench/metadata-check.mjs
//
// BENCH_N (100000) messages.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const { openStore } = await import(path.join(dist, 'store/index.js'));
const N = Number(process.env.BENCH_N ?? 100_000);

const dir = mkdtempSync(path.join(tmpdir(), 'postern-checkbench-'));
const store = await openStore({ backend: 'sqlite', dataDir: dir });
try {
  const db = store.meta.db;
  db.exec("INSERT INTO domains VALUES ('x.test', 1); INSERT INTO accounts (address, domain, password_hash, created_at) VALUES ('a@x.test', 'x.test', 'h', 1)");
  db.exec("INSERT INTO folders (account_id, name, uid_validity) VALUES (1, 'INBOX', 1)");
  const ins = db.prepare('INSERT INTO messages (folder_id, uid, blob_id, size, internal_date, flags, modseq) VALUES (1, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= N; i++) ins.run(i, ((i * 2654435761) % 2 ** 32).toString(16).padStart(64, '0'), 1000 + i, i, i % 3 ? '\\Seen' : '', i);
  })();
  console.log(`metadata check of ${N} messages`);
  /** Largest gap between two ticks of a 1 ms interval: how long the event loop was stopped. */
  const measure = async (label, fn) => {
    let last = performance.now();
    let worst = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 1);
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    const problems = await fn();
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(probe);
    console.log(`  ${label.padEnd(52)} ${ms.toFixed(0).padStart(5)} ms, event loop stopped up to ${worst.toFixed(0).padStart(4)} ms, ${problems.length} problem(s)`);
  };
  const onConnection = (pragma) => async () => db.pragma(pragma).filter((r) => Object.values(r)[0] !== 'ok');
  await measure('quick_check on the server connection (before)', onConnection('quick_check'));
  await measure('quick (+ vital tables) in a worker thread (now)', () => store.meta.integrity.checkMetadata('quick'));
  await measure('integrity_check on the server connection (before)', onConnection('integrity_check'));
  await measure('full in a worker thread (now)', () => store.meta.integrity.checkMetadata('full'));
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
