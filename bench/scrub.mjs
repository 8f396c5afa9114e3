// Scrub throughput over a store of >= 2 GB of blobs, next to the machine's raw
// sequential read speed measured in the same run; the cost of the container's
// checksum + ECC verification per GB against plain SHA-256; the format's size
// overhead.
//
//   npm run build && node bench/scrub.mjs
//
// The store is built once under bench/out/store (BENCH_BLOBS x 1 MiB random
// blobs, default 2000) and reused by later runs and by bench/backup.mjs.
// Page caches are dropped before each cold measurement when the process may
// write /proc/sys/vm/drop_caches (root); the output says whether it could.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync, openSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, '..', 'dist');
const { openStore } = await import(path.join(dist, 'store/index.js'));
const { scrub } = await import(path.join(dist, 'integrity/index.js'));
const { encodeBlob, verifyBlob, containerSize } = await import(path.join(dist, 'crypto/blockcodec.js'));

const MiB = 1024 * 1024;
const BLOBS = Number(process.env.BENCH_BLOBS ?? 2000);
const out = path.join(root, 'out');
const dataDir = path.join(out, 'store');
const ddFile = path.join(out, 'seqread-2g.bin');
mkdirSync(out, { recursive: true });

/** Drops the page cache so the next read comes from the disk; false if not permitted. */
function dropCaches() {
  try {
    execSync('sync; echo 3 > /proc/sys/vm/drop_caches', { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
}

const t0 = performance.now();
const secs = () => ((performance.now() - t0) / 1000).toFixed(0);

// 1. The store: BLOBS x 1 MiB random blobs, each referenced by a message.
const store = await openStore({ backend: 'sqlite', dataDir });
let have = 0;
for await (const id of store.blobs.list()) if (id) have++;
if (have < BLOBS) {
  console.log(`[${secs()}s] building the store: ${BLOBS - have} more blobs of 1 MiB in ${dataDir}`);
  const d = store.meta.directory;
  if (!(await d.hasDomain('bench.test'))) await d.addDomain('bench.test', Date.now());
  const acct = (await d.getAccount('bench@bench.test')) ?? (await d.addAccount({ address: 'bench@bench.test', passwordHash: '$x' }, Date.now()));
  const folder = (await store.meta.mailboxes.getFolder(acct.id, 'INBOX')) ?? (await store.meta.mailboxes.createFolder(acct.id, 'INBOX', null, Date.now()));
  for (let i = have; i < BLOBS; i++) {
    const ref = await store.blobs.put(randomBytes(MiB));
    await store.meta.mailboxes.append(folder.id, { blobId: ref.id, size: ref.size, internalDate: Date.now() });
  }
}

// 2. Raw sequential read: dd over a 2 GB file, cold.
if (!existsSync(ddFile) || statSync(ddFile).size < 2000 * MiB) {
  console.log(`[${secs()}s] writing ${ddFile} for the raw read measurement`);
  const fd = openSync(ddFile, 'w');
  const chunk = randomBytes(16 * MiB);
  for (let i = 0; i < 125; i++) writeSync(fd, chunk);
  fsyncSync(fd);
  closeSync(fd);
}
/** MB/s of `dd` reading the 2 GB file from a cold cache. Measured before and after the scrub: the disk's speed drifts. */
function ddRead() {
  dropCaches();
  const start = performance.now();
  execFileSync('dd', [`if=${ddFile}`, 'of=/dev/null', 'bs=1M'], { stdio: 'ignore' });
  return statSync(ddFile).size / 1e6 / ((performance.now() - start) / 1000);
}
const dropped = dropCaches();
const ddBefore = ddRead();

// 3. Scrub, cold (from disk) and warm (from the page cache: the CPU cost alone).
console.log(`[${secs()}s] scrubbing`);
dropCaches();
const cold = await scrub(store, { metadata: 'quick' });
const warm = await scrub(store, { metadata: 'quick' });
if (!cold.clean || cold.blobs < BLOBS) throw new Error(`unexpected scrub result: ${JSON.stringify({ blobs: cold.blobs, clean: cold.clean })}`);
await store.close();
const ddAfter = ddRead();
const ddMBps = (ddBefore + ddAfter) / 2;

// 4. Verify cost per GB in memory: containers of 1 MiB vs plain SHA-256 of the same data.
const pool = Array.from({ length: 64 }, () => randomBytes(MiB));
const containers = pool.map((b) => encodeBlob(b));
const ROUNDS = 16; // 64 MiB x 16 = 1 GiB
const time = (fn) => {
  fn(pool[0], containers[0]); // warm-up
  const s = performance.now();
  for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < pool.length; i++) fn(pool[i], containers[i]);
  return (performance.now() - s) / 1000;
};
const gb = (ROUNDS * pool.length * MiB) / 1e9;
const shaSec = time((b) => createHash('sha256').update(b).digest()) / gb;
const verSec = time((_, c) => {
  if (!verifyBlob(c).ok) throw new Error('verify failed');
}) / gb;

// 5. Size overhead of the format.
const overhead = ((containerSize(MiB) - MiB) / MiB) * 100;
const storedOverhead = ((cold.bytes - BLOBS * MiB) / (BLOBS * MiB)) * 100;

const f = (n, d = 1) => n.toFixed(d);
const lines = [
  `postern scrub benchmark (node ${process.version}, ${cold.blobs} blobs of 1 MiB, ${f(cold.bytes / 1e9, 2)} GB stored)`,
  `  page cache dropped before cold reads: ${dropped ? 'yes' : 'no (not permitted: cold figures may be cached)'}`,
  `  raw sequential read (dd bs=1M, 2 GB file): ${f(ddMBps)} MB/s (before the scrub ${f(ddBefore)}, after ${f(ddAfter)})`,
  `  scrub, cold:  ${f(cold.mbps)} MB/s  (${f(cold.durationMs / 1000)} s)  = ${f((cold.mbps / ddMBps) * 100)}% of raw read`,
  `  scrub, warm:  ${f(warm.mbps)} MB/s  (${f(warm.durationMs / 1000)} s, page cache: CPU cost only)`,
  `  in memory, per GB of data: verify (CRC-32 + locator + SHA-256) ${f(verSec, 3)} s, plain SHA-256 ${f(shaSec, 3)} s  (verify = ${f(verSec / shaSec, 2)} x SHA-256)`,
  `  format overhead: ${f(overhead, 3)}% per 1 MiB blob (header ${containerSize(0)} B + 8 B per 4 KiB block); measured on the store ${f(storedOverhead, 3)}%`,
  `  total run time ${secs()} s`,
];
console.log(lines.join('\n'));
writeFileSync(path.join(out, 'scrub-result.txt'), lines.join('\n') + '\n');
