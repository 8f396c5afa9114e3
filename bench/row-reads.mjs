// What a first SEARCH asks of the blob store, alone: every message of a store
// of small messages kept as rows ([store] inline_blob_kb, the default) read,
// verified and derived from (its search part) on the blob reader threads,
// while the event loop commits a row every 2 ms, as a first SEARCH commits the
// parts it derived. Prints wall time and the process's CPU time (all threads,
// Linux /proc) per pass. Builds are run alternately, each in a child process
// of its own on the same store, so an A/B shares the machine's load.
//
//   npm run build && node bench/row-reads.mjs [distA distB ...]
//
// BENCH_MESSAGES (20000) distinct messages of about 4 KiB are put once into a
// temp store; BENCH_ROUNDS (3) rounds; BENCH_WRITER=0 leaves the writer out.
// Everything stays under the temp folder, which is removed at the end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { statusMessage } from './status-message.mjs';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WRITER = process.env.BENCH_WRITER !== '0';
const here = path.dirname(fileURLToPath(import.meta.url));
const at = (dist, rel) => pathToFileURL(path.join(path.resolve(dist), rel)).href;

/** CPU time of this process so far, ms (utime + stime of every thread). */
function cpuMs() {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function open(dist, dataDir) {
  const { openStore } = await import(at(dist, 'store/index.js'));
  return openStore({ backend: 'sqlite', dataDir, inlineBlobBytes: 32 * 1024 });
}

/** Child: one pass over every blob id listed in the store's messages. */
async function pass(dist, dataDir) {
  const store = await open(dist, dataDir);
  const { SEARCH_PART_DERIVER } = await import(at(dist, 'mailbox/search-part.js'));
  store.blobs.keepWarm?.([SEARCH_PART_DERIVER]);
  await new Promise((r) => setTimeout(r, 500)); // the reader threads start and load the deriver
  const db = store.meta.db;
  const ids = db.prepare('SELECT blob_id FROM messages ORDER BY id').pluck().all();
  db.exec('CREATE TABLE IF NOT EXISTS bench_writes (x)');
  const insert = db.prepare('INSERT INTO bench_writes VALUES (?)');
  const writer = WRITER ? globalThis.setInterval(() => insert.run(Math.random()), 2) : null;
  const c0 = cpuMs();
  const t0 = performance.now();
  let derived = 0;
  for (let i = 0; i < ids.length; i += 2048) {
    const got = await Promise.all(ids.slice(i, i + 2048).map((id) => store.blobs.getDerived(id, SEARCH_PART_DERIVER)));
    derived += got.filter((g) => typeof g.derived === 'string').length;
  }
  const wall = performance.now() - t0;
  const cpu = cpuMs() - c0;
  if (writer) globalThis.clearInterval(writer);
  await store.close();
  process.stdout.write(JSON.stringify({ wall, cpu, reads: ids.length, derived }) + '\n');
}

async function build(dataDir, dist) {
  const store = await open(dist, dataDir);
  const { provisionMailbox } = await import(at(dist, 'mailbox/provision.js'));
  const now = Date.now();
  await store.meta.directory.addDomain('bench.test', now);
  const account = await store.meta.directory.addAccount({ address: 'bench@bench.test', passwordHash: 'x' }, now);
  await provisionMailbox(store.meta.mailboxes, account.id, now);
  const inbox = await store.meta.mailboxes.getFolder(account.id, 'INBOX');
  for (let i = 0; i < MESSAGES; i += 256) {
    const batch = [];
    for (let j = i; j < Math.min(MESSAGES, i + 256); j++) batch.push(store.blobs.put(statusMessage(j, 'bench@bench.test'), { syncedByCommit: true }));
    for (const b of await Promise.all(batch)) await store.meta.mailboxes.append(inbox.id, { blobId: b.id, size: b.size, internalDate: now });
  }
  await store.close();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

if (process.argv[2] === 'pass') {
  await pass(process.argv[3], process.argv[4]);
  process.exit(0);
} else {
  const dists = process.argv.length > 2 ? process.argv.slice(2) : [path.join(here, '..', 'dist')];
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-row-reads-'));
  try {
    const dataDir = path.join(dir, 'data');
    await build(dataDir, dists[0]);
    console.log(`${MESSAGES} messages as rows; writer ${WRITER ? 'on (a commit every 2 ms)' : 'off'}`);
    const results = new Map(dists.map((d) => [d, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const d of dists) {
        const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'pass', d, dataDir], { encoding: 'utf8', timeout: 600_000 });
        if (out.status !== 0) throw new Error(`pass with ${d} failed: ${out.stderr}`);
        const res = JSON.parse(out.stdout.trim().split('\n').at(-1));
        if (res.derived !== res.reads) throw new Error(`${d}: ${res.reads - res.derived} reads gave no search part`);
        results.get(d).push(res);
        console.log(`round ${r + 1} ${d}: ${res.reads} derived reads in ${res.wall.toFixed(0)} ms, CPU ${res.cpu} ms (${((res.cpu * 1000) / res.reads).toFixed(1)} µs per message)`);
      }
    }
    for (const [d, rs] of results) {
      console.log(`${d}: median ${median(rs.map((x) => x.wall)).toFixed(0)} ms, CPU ${median(rs.map((x) => x.cpu))} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
