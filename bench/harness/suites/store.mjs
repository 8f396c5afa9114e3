// store: postern's scrub and its verified online backup (then backup
// verify) against a plain sequential read of the same blob files from the
// same disk, MB/s. The page cache is dropped before each step when the
// process may (root); the configuration line says whether it could.
import { randomBytes } from 'node:crypto';
import { execSync } from 'node:child_process';
import { openSync, readdirSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { rotation } from '../stats.mjs';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist');
const MiB = 1024 * 1024;

function dropCaches() {
  try {
    execSync('sync; echo 3 > /proc/sys/vm/drop_caches', { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
}

/** Reads every file under dir (depth-bounded) in 1 MiB chunks; returns the bytes read. */
function readAll(dir, depth = 0) {
  let bytes = 0;
  const buf = Buffer.allocUnsafe(MiB);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && depth < 6) bytes += readAll(p, depth + 1);
    else if (e.isFile()) {
      const fd = openSync(p, 'r');
      try {
        for (let n; (n = readSync(fd, buf, 0, MiB, null)) > 0; ) bytes += n;
      } finally {
        closeSync(fd);
      }
    }
  }
  return bytes;
}

export async function storeSuite({ reps, quick, root, rows, configs, problems }) {
  const { openStore } = await import(path.join(DIST, 'store/index.js'));
  const { scrub, backup, verifyBackup } = await import(path.join(DIST, 'integrity/index.js'));
  const blobs = quick ? 100 : 1000;
  const dataDir = path.join(root, 'store');
  const store = await openStore({ backend: 'sqlite', dataDir });
  try {
    console.error(`  building a store of ${blobs} random blobs of 1 MiB ...`);
    const d = store.meta.directory;
    await d.addDomain('bench.test', Date.now());
    const acct = await d.addAccount({ address: 'bench@bench.test', passwordHash: '$x' }, Date.now());
    const folder = (await store.meta.mailboxes.getFolder(acct.id, 'INBOX')) ?? (await store.meta.mailboxes.createFolder(acct.id, 'INBOX', null, Date.now()));
    for (let i = 0; i < blobs; i++) {
      const ref = await store.blobs.put(randomBytes(MiB));
      await store.meta.mailboxes.append(folder.id, { blobId: ref.id, size: ref.size, internalDate: Date.now() });
    }
    const dropped = dropCaches();
    const steps = {
      'raw read': async () => {
        dropCaches();
        const t0 = performance.now();
        const bytes = readAll(path.join(dataDir, 'blobs'));
        return bytes / 1e6 / ((performance.now() - t0) / 1000);
      },
      scrub: async () => {
        dropCaches();
        const r = await scrub(store, { metadata: 'quick' });
        if (!r.clean) problems.push('scrub found damage in a fresh store');
        return r.mbps;
      },
      backup: async () => {
        const dest = path.join(root, 'backup');
        rmSync(dest, { recursive: true, force: true });
        dropCaches();
        const t0 = performance.now();
        const r = await backup(store, dest);
        const s = (performance.now() - t0) / 1000;
        if (!r.complete) problems.push('backup incomplete');
        dropCaches();
        const v0 = performance.now();
        const v = await verifyBackup(dest);
        const vs = (performance.now() - v0) / 1000;
        if (!v.ok) problems.push(`backup verify: ${v.problems.slice(0, 3).join('; ')}`);
        rows.add(`backup verify (${blobs} MiB)`, 'MB/s', 'higher', 'postern', v.bytes / 1e6 / vs);
        return (r.bytesCopied + r.metadataBytes) / 1e6 / s;
      },
    };
    for (let r = 0; r < reps; r++) {
      for (const step of rotation(Object.keys(steps), r)) {
        const v = await steps[step]();
        console.error(`  ${step} | rep ${r + 1}: ${v.toFixed(1)} MB/s`);
        if (step === 'raw read') {
          // The same raw read is the peer of every postern step of this repetition.
          for (const c of ['scrub', 'backup, verified as copied', 'backup verify']) rows.add(`${c} (${blobs} MiB)`, 'MB/s', 'higher', 'raw read', v);
        } else rows.add(`${step === 'scrub' ? 'scrub' : 'backup, verified as copied'} (${blobs} MiB)`, 'MB/s', 'higher', 'postern', v);
      }
    }
    const stored = statSync(path.join(dataDir, 'meta.sqlite')).size;
    configs.postern = `postern store (SQLite metadata ${(stored / 1e6).toFixed(1)} MB, ${blobs} blobs of 1 MiB random data), scrub with metadata check "quick", backup to a folder on the same disk then backup verify`;
    configs['raw read'] = `node reading every blob file of the same store sequentially in 1 MiB reads; page cache dropped before each step: ${dropped ? 'yes' : 'no (not root: figures may come from the cache)'}`;
  } finally {
    await store.close();
  }
}
