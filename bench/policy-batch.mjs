// CPU per message of the policy pool's round trips: the work of K stages over
// one 4 KiB message sent as K tasks (one per stage, as before batches) or as
// one batch (pool/batch.ts), with 20 messages in flight. Each item is
// selftest.echo, so the figures are the round trips themselves: the main
// thread's CPU (the event loop every connection shares) and the whole
// process's (worker threads included), from Linux /proc. Modes alternate
// round by round; medians are reported.
//
//   npm run build && node bench/policy-batch.mjs [--messages 2000] [--rounds 5] [--stages 3]
import { readFileSync } from 'node:fs';

const opt = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = opt('messages', 2000);
const ROUNDS = opt('rounds', 5);
const STAGES = opt('stages', 3);
const { PolicyPool } = await import(new URL('../dist/policy/pool/index.js', import.meta.url).href);
const { PoolBatch } = await import(new URL('../dist/policy/pool/batch.js', import.meta.url).href);

const pool = PolicyPool.open({ threads: 2 });
const raw = new Uint8Array(4096).fill(0x61);
const works = Array.from({ length: STAGES }, (_, i) => ({ task: 'selftest.echo', input: { stage: i }, budgetMs: 10_000 }));

function cpu() {
  const main = Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e3;
  const c = process.cpuUsage();
  return { main, all: c.user + c.system };
}

const MODES = {
  // As the pipeline ran before batches: one task per stage, one after the other.
  separate: async () => {
    for (const w of works) await pool.run(w.task, { ...w.input, raw }, { budgetMs: w.budgetMs });
  },
  batch: async () => {
    const b = PoolBatch.start(pool, raw, works);
    for (let i = 0; i < works.length; i++) await b.result(i);
  },
};

async function round(mode) {
  let left = MESSAGES;
  const t0 = cpu();
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (left-- > 0) await MODES[mode]();
    }),
  );
  const t1 = cpu();
  return { main: (t1.main - t0.main) / MESSAGES, all: (t1.all - t0.all) / MESSAGES };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await round('separate'); // warm-up: threads, code
const got = { separate: [], batch: [] };
for (let r = 0; r < ROUNDS; r++) for (const mode of Object.keys(MODES)) got[mode].push(await round(mode));
await pool.close();
console.log(`policy pool, ${STAGES} stages' work per 4 KiB message, ${MESSAGES} messages x ${ROUNDS} rounds, node ${process.version}`);
for (const [mode, rs] of Object.entries(got)) {
  console.log(`${mode.padEnd(9)} main thread ${median(rs.map((x) => x.main)).toFixed(0).padStart(4)} µs/msg   process ${median(rs.map((x) => x.all)).toFixed(0).padStart(5)} µs/msg`);
}
