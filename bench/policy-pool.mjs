// Round-trip overhead of the policy worker pool: tasks per second for
// selftest.echo (the input goes to a worker thread and comes back,
// structured-cloned both ways) with 1 KiB and 1 MiB of message bytes, one
// task at a time (latency) and with several in flight (throughput).
//
//   npm run build && node bench/policy-pool.mjs
//
// BENCH_SECONDS bounds each measurement (default 3); POOL_THREADS sets the
// threads (default the pool's own, min(2, CPUs)). Each measurement runs
// three rounds and reports the best, since other load only slows a round.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const { PolicyPool } = await import(new URL('../dist/policy/pool/index.js', import.meta.url).href);

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const threads = process.env.POOL_THREADS ? Number(process.env.POOL_THREADS) : undefined;
const pool = PolicyPool.open(threads ? { threads } : {});
const inFlightMax = (threads ?? 2) * 4;

async function measure(input, concurrency) {
  await pool.run('selftest.echo', input, { budgetMs: 10_000 }); // warm-up: threads started
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    const end = start + (seconds * 1000) / 3;
    let done = 0;
    const lane = async () => {
      while (performance.now() < end) {
        await pool.run('selftest.echo', input, { budgetMs: 10_000 });
        done++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    best = Math.max(best, done / ((performance.now() - start) / 1000));
  }
  return best;
}

const rows = [];
for (const [label, size] of [['1 KiB', 1024], ['1 MiB', 1024 * 1024]]) {
  const input = { raw: new Uint8Array(randomBytes(size)) };
  for (const concurrency of [1, inFlightMax]) {
    const perSec = await measure(input, concurrency);
    rows.push({ input: label, 'in flight': concurrency, 'tasks/s': Math.round(perSec), 'µs/task': Math.round(1e6 / perSec), 'MiB/s each way': +((perSec * size) / 1024 / 1024).toFixed(1) });
  }
}
const s = pool.stats();
await pool.close();
console.log(`policy pool round trip, ${s.threads} thread(s) at the end, node ${process.version}`);
console.table(rows);
