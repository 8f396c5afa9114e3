// Blob reads in bursts, as FETCH and SEARCH make them: 10,000 blobs of
// bench/imap.mjs's stored mailbox read a thousand at a time through the IMAP
// layer's read-ahead (src/imap/content.ts) from the blob store's reader
// threads, with W µs of event-loop work per message (a busy wait standing in
// for building its response). Prints the wall time of each 10,000 (four
// rounds, each over other blobs), per build given, builds alternating.
//
//   node bench/imap.mjs   (once: builds bench/out/imap-template-100000)
//   node bench/read-burst.mjs [--work 40] [--rounds 2] [dist ...]
//
// Reads only: the template's files are opened read-only (O_NOATIME) and
// nothing is written. Bounded: 4 x 10,000 reads per build per round.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { opt } from './process-probe.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TEMPLATE = path.join(ROOT, 'bench/out/imap-template-100000/data');
const WORK_US = Number(opt('work', 40));
const ROUNDS = Number(opt('rounds', 2));
const dists = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
if (!existsSync(path.join(TEMPLATE, 'meta.sqlite'))) throw new Error(`${TEMPLATE} is missing: run node bench/imap.mjs once`);

const spin = (us) => {
  const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000));
  while (process.hrtime.bigint() < end);
};

async function once(dist, ids) {
  const { FsBlobStore } = await import(path.resolve(dist, 'store/backends/fs/blobs.js'));
  const { readAhead } = await import(path.resolve(dist, 'imap/content.js'));
  const store = await FsBlobStore.open(path.join(TEMPLATE, 'blobs'));
  store.keepWarm();
  await store.get(ids[0]);
  const times = [];
  for (let round = 0; round < 4; round++) {
    const part = ids.slice(round * 10_000, round * 10_000 + 10_000);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < part.length; i += 1000) {
      for await (const [, data] of readAhead(part.slice(i, i + 1000), (id) => store.get(id), () => 4000)) {
        if (data.length === 0) throw new Error('empty blob');
        spin(WORK_US);
      }
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await store.close?.();
  return times;
}

const CHILD = opt('child', '');
if (CHILD) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path.join(TEMPLATE, 'meta.sqlite'), { readonly: true });
  const ids = db.prepare('SELECT blob_id FROM messages ORDER BY id LIMIT 40000').pluck().all();
  db.close();
  const times = await once(CHILD, ids);
  console.log(`${path.relative(ROOT, CHILD) || CHILD}: ${WORK_US} µs of work per message, ms per 10,000: ${times.map((t) => t.toFixed(0)).join(' ')}`);
  process.exit(0);
}
for (let r = 0; r < ROUNDS; r++) {
  for (const dist of dists.length ? dists : [path.join(ROOT, 'dist')]) {
    // Each build in a process of its own: two builds' modules and threads never share one.
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', path.resolve(dist), '--work', String(WORK_US)], { encoding: 'utf8', timeout: 300_000 });
    if (child.status !== 0) throw new Error(`${dist}: ${child.stderr}`);
    process.stdout.write(child.stdout);
  }
}
