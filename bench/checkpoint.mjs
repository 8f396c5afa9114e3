// Where SQLite's WAL checkpoints run, and what the event loop pays for them:
// 4,000 commits of twelve 3 KiB rows (about 15 pages each, an SMTP message
// writes about 36) through the metadata store's own connection, with a 1 ms
// pause every fourth commit, first with SQLite checkpointing inside the
// commit that takes the WAL past 1,000 pages (a store as the CLI opens it),
// then with the server's checkpoint thread (`checkpointInBackground`, as
// `postern start` runs it). Prints, per mode and round, the time of each
// commit on the calling thread (p50, p99, max, how many took over 5 ms) and
// the total. Everything is in a temp folder, removed at the end.
//
//   npm run build && node bench/checkpoint.mjs [rounds=2]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const { SqliteMetaStore } = await import(new URL('../dist/store/backends/sqlite/index.js', import.meta.url).href);
const ROUNDS = Number(process.argv[2] ?? 2);
const COMMITS = 4000;

async function run(thread) {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-checkpoint-'));
  const store = SqliteMetaStore.open(path.join(dir, 'meta.sqlite'));
  try {
    const db = store.db;
    db.exec('CREATE TABLE bulk (id INTEGER PRIMARY KEY, k TEXT, v BLOB); CREATE INDEX bulk_k ON bulk(k)');
    if (thread) store.checkpointInBackground();
    const insert = db.prepare('INSERT INTO bulk (k, v) VALUES (?, ?)');
    const row = Buffer.alloc(3000, 1);
    const times = [];
    const t0 = performance.now();
    for (let i = 0; i < COMMITS; i++) {
      const a = performance.now();
      db.transaction(() => {
        for (let j = 0; j < 12; j++) insert.run(`${i}.${j}.${Math.random()}`, row);
      })();
      times.push(performance.now() - a);
      if (i % 4 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    const wall = performance.now() - t0;
    times.sort((a, b) => a - b);
    const at = (p) => times[Math.min(times.length - 1, Math.floor(times.length * p))];
    const sum = times.reduce((a, b) => a + b, 0);
    const slow = times.filter((t) => t > 5).length;
    const runs = store.checkpoints?.runs;
    return `${thread ? 'checkpoint thread ' : 'in the commits    '} commit p50 ${at(0.5).toFixed(2)} p99 ${at(0.99).toFixed(2)} max ${times[times.length - 1].toFixed(1)} ms, over 5 ms ${slow}; in commits ${sum.toFixed(0)} of ${wall.toFixed(0)} ms${runs === undefined ? '' : `; ${runs} checkpoints by the thread`}`;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (let r = 1; r <= ROUNDS; r++) {
  console.log(`round ${r}: ${await run(false)}`);
  console.log(`round ${r}: ${await run(true)}`);
}
