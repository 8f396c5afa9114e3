// Backup throughput over the store bench/scrub.mjs builds (>= 2 GB of 1 MiB
// blobs under bench/out/store): a full online backup (every block verified,
// every file fsynced), an incremental one with nothing new, `backup verify`
// and a restore.
//
//   npm run build && node bench/scrub.mjs && node bench/backup.mjs
//
// Page caches are dropped before each step when permitted (root).
import { execSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, '..', 'dist');
const { openStore } = await import(path.join(dist, 'store/index.js'));
const { backup, verifyBackup, restore } = await import(path.join(dist, 'integrity/index.js'));

const out = path.join(root, 'out');
const dataDir = path.join(out, 'store');
const dest = path.join(out, 'backup');
const restored = path.join(out, 'restored');
if (!existsSync(path.join(dataDir, 'meta.sqlite'))) {
  console.error(`no store in ${dataDir}: run node bench/scrub.mjs first`);
  process.exit(1);
}
rmSync(dest, { recursive: true, force: true });
rmSync(restored, { recursive: true, force: true });
rmSync(dest, { recursive: true, force: true });

function dropCaches() {
  try {
    execSync('sync; echo 3 > /proc/sys/vm/drop_caches', { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
}

async function timed(fn) {
  const start = performance.now();
  const result = await fn();
  return { result, seconds: (performance.now() - start) / 1000 };
}

// The disk's raw sequential write speed, for scale: one 2 GB file, fsynced once.
const ddOut = path.join(out, 'seqwrite.bin');
const ddw = await timed(() => execSync(`dd if=/dev/zero of=${ddOut} bs=1M count=2000 conv=fsync`, { stdio: 'ignore' }));
rmSync(ddOut, { force: true });

const store = await openStore({ backend: 'sqlite', dataDir });
const dropped = dropCaches();
const full = await timed(() => backup(store, dest));
if (!full.result.complete) throw new Error('backup incomplete');
dropCaches();
const incr = await timed(() => backup(store, dest, { incremental: true }));
await store.close();
dropCaches();
const ver = await timed(() => verifyBackup(dest));
if (!ver.result.ok) throw new Error(`verify failed: ${ver.result.problems.join('; ')}`);
dropCaches();
const rest = await timed(() => restore(dest, restored));

const gb = full.result.bytes / 1e9;
const f = (n, d = 1) => n.toFixed(d);
const mbps = (bytes, s) => f(bytes / 1e6 / s);
const lines = [
  `postern backup benchmark (node ${process.version}, ${full.result.blobs} blobs, ${f(gb, 2)} GB + ${f(full.result.metadataBytes / 1e6, 2)} MB metadata)`,
  `  page cache dropped before each step: ${dropped ? 'yes' : 'no (not permitted)'}`,
  `  raw sequential write (dd bs=1M conv=fsync, 2 GB): ${mbps(2000 * 1024 * 1024, ddw.seconds)} MB/s`,
  `  full backup:         ${mbps(full.result.bytesCopied + full.result.metadataBytes, full.seconds)} MB/s  (${f(full.seconds)} s; read, verify, write + fsync each blob)`,
  `  incremental, no new: ${mbps(incr.result.bytes, incr.seconds)} MB/s  (${f(incr.seconds)} s; ${incr.result.reused} kept after re-hashing, ${incr.result.copied} copied)`,
  `  backup verify:       ${mbps(ver.result.bytes, ver.seconds)} MB/s  (${f(ver.seconds)} s; digests, block checks, full SQLite check)`,
  `  restore:             ${mbps(rest.result.bytes, rest.seconds)} MB/s  (${f(rest.seconds)} s; verify everything, then copy with fsync)`,
];
console.log(lines.join('\n'));
writeFileSync(path.join(out, 'backup-result.txt'), lines.join('\n') + '\n');
rmSync(restored, { recursive: true, force: true });
rmSync(dest, { recursive: true, force: true });
