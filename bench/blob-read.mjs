// What a blob read costs on one thread, per file, in the steps a reader
// thread takes for a SEARCH or a FETCH: open, read and close (a fresh array
// sized by fstat, or one reused buffer; O_NOATIME or not), decode the
// container (data copied out, or a view of a one-block container), and
// derive the header cache search part. Containers are written by the built
// blob store into a temporary store (fan-out folders as in use), then
// hard-linked into a new folder before each first read, as `bench/imap.mjs`
// links its template: a link changes the inode's ctime, so under `relatime`
// the first plain read of each file rewrites its access time. Bounded by
// --files and one pass per measurement; everything stays under the temp folder.
//
//   npm run build && node bench/blob-read.mjs [--files 20000] [--rounds 3] [--dist DIR]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { opt } from './process-probe.mjs';
import { statusMessage } from './status-message.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.resolve(opt('dist', path.join(root, 'dist')));
const FILES = Number(opt('files', '20000'));
const ROUNDS = Number(opt('rounds', '3'));
const load = (rel) => import(pathToFileURL(path.join(dist, rel)).href);
const { FsBlobStore } = await load('store/backends/fs/blobs.js');
const { decodeBlob, decodeBlobView } = await load('crypto/blockcodec.js');
const { derive } = await load('mailbox/search-part.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-blob-read-'));
try {
  const store = await FsBlobStore.open(path.join(tmp, 'blobs'));
  const ids = [];
  for (let i = 0; i < FILES; i += 256) {
    const batch = [];
    for (let k = i; k < Math.min(FILES, i + 256); k++) batch.push(store.put(statusMessage(k + 1, 'bench@bench.test')));
    for (const r of await Promise.all(batch)) ids.push(r.id);
  }
  await store.close?.();
  const rel = ids.map((id) => path.relative(path.join(tmp, 'blobs'), store.pathOf(id)));
  let copy = 0;
  /** A new hard-linked copy of the store's files: the next read of each is a first read. */
  const linked = () => {
    const dir = path.join(tmp, `copy${copy++}`);
    const r = spawnSync('cp', ['-al', path.join(tmp, 'blobs'), dir]);
    if (r.status !== 0) throw new Error(`cp -al failed: ${r.stderr}`);
    return rel.map((f) => path.join(dir, f));
  };

  const PLAIN = fs.constants.O_RDONLY;
  const NOATIME = PLAIN | (fs.constants.O_NOATIME ?? 0);
  const scratch = new Uint8Array(256 * 1024);
  const fresh = (flags) => (file) => {
    const fd = fs.openSync(file, flags);
    try {
      const b = new Uint8Array(fs.fstatSync(fd).size);
      fs.readSync(fd, b, 0, b.length, 0);
      return b;
    } finally {
      fs.closeSync(fd);
    }
  };
  const reused = (file) => {
    const fd = fs.openSync(file, NOATIME);
    try {
      return scratch.subarray(0, fs.readSync(fd, scratch, 0, scratch.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  };

  /** µs per file (wall, user, system) of fn over every file. */
  const time = (files, fn) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const f of files) fn(f);
    const c = process.cpuUsage(c0);
    const per = (v) => (v / files.length).toFixed(2);
    return `${per((performance.now() - t0) * 1000)} µs (user ${per(c.user)}, system ${per(c.system)})`;
  };

  const containers = linked().map(fresh(PLAIN));
  const datas = containers.map((c) => decodeBlob(c).data);
  console.log(`postern ${dist}: ${FILES} blobs, ${(containers.reduce((a, c) => a + c.length, 0) / FILES / 1024).toFixed(2)} KiB per container on average`);
  for (let r = 1; r <= ROUNDS; r++) {
    console.log(`round ${r}`);
    for (const [name, fn] of [
      ['first read, fstat + fresh array, plain open', fresh(PLAIN)],
      ['first read, fstat + fresh array, O_NOATIME', fresh(NOATIME)],
      ['first read, reused buffer, O_NOATIME', reused],
    ]) {
      const files = linked();
      console.log(`  ${name.padEnd(46)} ${time(files, fn)}; again ${time(files, fn)}`);
    }
    console.log(`  ${'decode, data copied out'.padEnd(46)} ${time(containers, (c) => decodeBlob(c))}`);
    console.log(`  ${'decode, one-block data as a view'.padEnd(46)} ${time(containers, (c) => decodeBlobView(c))}`);
    let i = 0;
    console.log(`  ${'derive the search part'.padEnd(46)} ${time(datas, (d) => derive(ids[i++], d))}`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
