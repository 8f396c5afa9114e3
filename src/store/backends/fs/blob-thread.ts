/**
 * The blob thread: reads and writes blob files with synchronous fs calls, a
 * batch per message, so the event loop pays one message each way per batch
 * instead of a trip through libuv's pool for every open, read, write, fsync,
 * close and rename. Reads verify containers with the same code as the event
 * loop (crypto/blockcodec) and hand back only clean ones as checked bytes;
 * anything needing repair or judgement goes back raw. Writes are durable
 * before they are answered: file fsync, rename, then one fsync per folder of
 * the batch (and of new folders' parents). The thread holds no keys; it
 * touches only the files it is named.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { readBlobData, statedContainerSize, verifyBlob } from '../../../crypto/blockcodec.js';
import { openForReadSync } from './read-flags.js';
import { TEMP_PREFIX, parseRowSource, type FromThread, type ReadAnswer, type ThreadError, type ToThread, type WriteAnswer, type WriteJob } from './thread-protocol.js';

function errorOf(e: unknown): ThreadError {
  const err = e as NodeJS.ErrnoException;
  return { code: typeof err?.code === 'string' ? err.code : 'EIO', message: String(err?.message ?? e) };
}

function readFileSyncWhole(file: string): Uint8Array {
  const fd = openForReadSync(file);
  try {
    return readRest(fd, new Uint8Array(fs.fstatSync(fd).size), 0);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads `fd` from `off` into `buf` until it is full or the file ends; the bytes read. */
function readRest(fd: number, buf: Uint8Array, off: number): Uint8Array {
  while (off < buf.length) {
    const n = fs.readSync(fd, buf, off, buf.length - off, off);
    if (n === 0) break;
    off += n;
  }
  return off === buf.length ? buf : buf.slice(0, off);
}

/**
 * One buffer, reused, for reads whose container never leaves the thread
 * (verify, derive, a put's dedupe check; decode copies the data out): no
 * allocation and no fstat per file, about 2.5 of 9 µs per small file here.
 * Whatever is handed back from it is copied first (ownBytes).
 */
const SCRATCH = new Uint8Array(256 * 1024);

/** A container read into SCRATCH (a view of it), or into an array of its own when larger. */
function readReused(file: string): Uint8Array {
  const fd = openForReadSync(file);
  try {
    let off = 0;
    // The header says how large the container is: reading stops there, without one more read to find the end.
    // A file longer than stated shows as more bytes than that from the same read (asked for up to the buffer's size).
    let want: number | null = null;
    while (off < (want ?? SCRATCH.length)) {
      const n = fs.readSync(fd, SCRATCH, off, SCRATCH.length - off, off);
      if (n === 0) break;
      off += n;
      want ??= statedContainerSize(SCRATCH.subarray(0, off));
      // Larger than the buffer: read whole into its own (from the start, as it was found).
      if (want !== null && want >= SCRATCH.length) return readRest(fd, new Uint8Array(fs.fstatSync(fd).size), 0);
    }
    // A full buffer may not be the whole file: read it whole into its own.
    if (off === SCRATCH.length) return readRest(fd, new Uint8Array(fs.fstatSync(fd).size), 0);
    return SCRATCH.subarray(0, off);
  } finally {
    fs.closeSync(fd);
  }
}

/** Bytes that may be handed out: a view of SCRATCH is copied. */
function ownBytes(b: Uint8Array): Uint8Array {
  return b.buffer === SCRATCH.buffer ? b.slice() : b;
}

interface RowReader {
  get: { get(id: string): unknown };
  begin: { run(): unknown };
  commit: { run(): unknown };
  /** In a read transaction opened for the batch under way. */
  open: boolean;
}
/** Per database file, a read-only connection's statements (opened on the first row read: most threads never read one). */
const rowReaders = new Map<string, RowReader>();

/**
 * A blob row's container, read through this thread's own read-only
 * connection (WAL: it reads the last commit, never waits for the writer).
 * A missing row throws ENOENT, as a missing file does. The rows of one
 * batch are read in one read transaction (closed by `endRowReads`): each
 * statement on its own would start one, and a read transaction that finds
 * the database changed since the connection's last one drops the
 * connection's whole page cache, so while the event loop commits (a first
 * SEARCH writes its search parts as it goes) every row read went back to
 * the file for every page on its way: about 20 µs a row.
 */
function readRow(dbFile: string, id: string): Uint8Array {
  let r = rowReaders.get(dbFile);
  if (!r) {
    // Loaded here, not at the top: a thread that reads only files never loads the addon.
    type Stmt = { get(...a: unknown[]): unknown; run(): unknown; pluck(): Stmt };
    const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, o: object) => { prepare(sql: string): Stmt };
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    r = { get: db.prepare('SELECT container FROM blobs WHERE id = ?').pluck(), begin: db.prepare('BEGIN'), commit: db.prepare('COMMIT'), open: false };
    rowReaders.set(dbFile, r);
  }
  if (!r.open) {
    r.begin.run();
    r.open = true;
  }
  const c = r.get.get(id);
  if (!(c instanceof Uint8Array)) throw Object.assign(new Error(`blob row ${id} is missing`), { code: 'ENOENT' });
  return c;
}

/** Ends the batch's read transactions: the WAL is not held at an old snapshot between batches. */
function endRowReads(): void {
  for (const r of rowReaders.values()) {
    if (!r.open) continue;
    r.open = false;
    r.commit.run();
  }
}

/** A deriver module's function (BlobStore.getDerived). */
type Derive = (blobId: string, data: Uint8Array) => string | null;

/** Deriver modules by URL, once loaded; null: it could not be loaded (its reads answer with the data). */
const derivers = new Map<string, Derive | null>();

/** Loads the deriver modules a batch names that are not loaded yet. */
async function loadDerivers(urls: readonly (string | null)[]): Promise<void> {
  for (const url of new Set(urls)) {
    if (url === null || derivers.has(url)) continue;
    try {
      const mod = (await import(url)) as { derive?: unknown };
      derivers.set(url, typeof mod.derive === 'function' ? (mod.derive as Derive) : null);
    } catch {
      derivers.set(url, null);
    }
  }
}

/** One read (MODE_LETTER + path, and the deriver for mode derive): the answer, and whether it is clean. */
function readOne(job: string, deriver: string | null): [ReadAnswer, boolean] {
  const mode = job[0];
  const file = job.slice(1);
  const checked = mode === 'd' || mode === 'v' || mode === 'x';
  const row = parseRowSource(file);
  let container: Uint8Array;
  try {
    // Raw reads hand the file out as it is; the others keep it here (SCRATCH). A row's bytes are
    // the driver's, copied before they are handed out raw (moved: they must own their memory).
    container = row ? readRow(row.dbFile, row.id) : checked ? readReused(file) : readFileSyncWhole(file);
  } catch (e) {
    return [errorOf(e), false];
  }
  if (row && !checked) return [container.slice(), false];
  if (!checked) return [container, false];
  const derive = mode === 'x' && deriver !== null ? derivers.get(deriver) : null;
  // A derive reads the data and drops it: a view into the container serves (no copy). Reads trust
  // the digest first (readBlobData); verify checks every block.
  const r = mode === 'v' ? verifyBlob(container) : readBlobData(container, derive ? 'view' : 'copy');
  const blobId = row ? row.id : path.basename(file);
  // Only a container with nothing to report is settled here; the event loop judges the rest.
  if (!r.ok || r.corrections.length > 0 || r.sha256 !== blobId) return [row ? container.slice() : ownBytes(container), false];
  if (!derive || !r.data) return [r.data, true];
  try {
    return [derive(blobId, r.data), true];
  } catch {
    // The event loop derives it again from the data (a copy of its own, not a view), and logs what it throws.
    return [r.data.slice(), true];
  }
}

/** Whether a put's blob is already there: 'clean' (verified, nothing to repair), 'damaged', or 'absent'. */
function existing(job: WriteJob): 'clean' | 'damaged' | 'absent' {
  let container: Uint8Array;
  try {
    container = readReused(job.file);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'damaged';
  }
  const r = verifyBlob(container);
  return r.ok && r.corrections.length === 0 && r.sha256 === job.blobId ? 'clean' : 'damaged';
}

function writeNewSync(file: string, data: Uint8Array): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    let at = 0;
    while (at < data.length) {
      const n = fs.writeSync(fd, data, at, data.length - at);
      if (n === 0) throw Object.assign(new Error(`short write to ${path.basename(file)}`), { code: 'EIO' });
      at += n;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncDirSync(dir: string): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Folders this thread need not sync the parents of again: it synced them, or found the folder already there (see writeBatch). */
const knownDirs = new Set<string>();
/**
 * Blob files whose entries this thread synced after it wrote or found them:
 * a put that finds one of them again, clean, needs no folder sync (the same
 * message APPENDed again paid one per put). The first sighting of a file syncs its
 * folder: a process that crashed between rename and folder sync may have left
 * it. Bounded: cleared when full, which only costs a sync again.
 */
const syncedFiles = new Set<string>();
const SYNCED_FILES_MAX = 4096;

/** Set when a writer thread died in this process: see writeBatch. */
const strictDirs = (workerData as { strictDirs?: unknown } | null)?.strictDirs === true;
/**
 * Set once a folder sync failed here: a folder made then may lack a durable
 * entry in its parent while later puts find it there, so from then on every
 * folder a put meets syncs both its parents, as with strictDirs.
 */
let dirSyncFailed = false;

/**
 * Writes a batch. Every answer waits for the folder syncs the batch needs,
 * so a put is answered only once its file and every folder entry leading to
 * it are durable; a folder sync that fails fails the puts that needed it.
 */
function writeBatch(jobs: readonly WriteJob[]): { out: WriteAnswer[]; files: number; dirs: number } {
  const out: WriteAnswer[] = [];
  /** Per job, the folders that must be synced before it is answered. */
  const needs: string[][] = [];
  /** Per job, whether its folder's parents are synced in this batch (then the folder is known after). */
  const learns: boolean[] = [];
  const toSync = new Set<string>();
  /** Fan-out folders this batch made. */
  const madeHere = new Set<string>();
  let files = 0;
  for (const job of jobs) {
    const dir = path.dirname(job.file);
    const need: string[] = [];
    needs.push(need);
    learns.push(false);
    try {
      if (!job.replace) {
        const found = existing(job);
        if (found === 'damaged') {
          // Replaced by a repair: the new entry is synced again when next met.
          syncedFiles.delete(job.file);
          out.push('damaged');
          continue;
        }
        if (found === 'clean') {
          // Stored again: it counts as freshly written, so garbage collection keeps it.
          const now = new Date();
          try {
            fs.utimesSync(job.file, now, now);
            // An earlier job of this batch may have written it: its entry is synced before anyone is answered.
            if (strictDirs || !syncedFiles.has(job.file)) {
              need.push(dir);
              toSync.add(dir);
            }
            out.push('existing');
            continue;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
            // Collected meanwhile: written anew below.
          }
        }
      }
      if (!knownDirs.has(dir)) {
        // A folder made here is an entry in its parents: they are synced before the put is
        // answered. One that was there already was made by an earlier put, answered only after
        // the same syncs (a folder always belongs to the same thread, by its first byte), unless
        // that thread died first: then (strictDirs) the parents are synced once more. Syncing
        // them for every folder a new thread meets cost a sequential APPEND 20 % of its rate.
        // `made` is the topmost folder created: only the parents of folders made here gain an
        // entry. A leaf made under a fan-out folder that was already there (made by an earlier
        // put, on the same terms) syncs that folder alone, not the root too: while a store is
        // young nearly every message makes a leaf. A fan-out folder made earlier in this batch
        // has its root entry synced with the batch: a put into it needs that sync as well.
        const made = fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const parent = path.dirname(dir);
        if (made !== undefined || strictDirs || dirSyncFailed) {
          need.push(parent);
          toSync.add(parent);
          if (made !== dir || madeHere.has(parent) || strictDirs || dirSyncFailed) {
            need.push(path.dirname(parent));
            toSync.add(path.dirname(parent));
          }
          if (made !== undefined && made !== dir) madeHere.add(parent);
          learns[learns.length - 1] = true;
        } else knownDirs.add(dir);
      }
      const tmp = path.join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
      try {
        writeNewSync(tmp, job.container);
        files++;
        fs.renameSync(tmp, job.file);
      } catch (e) {
        try {
          fs.rmSync(tmp, { force: true });
        } catch {
          // Left for the stale temp file sweep.
        }
        throw e;
      }
      need.push(dir);
      toSync.add(dir);
      out.push('stored');
    } catch (e) {
      out.push(errorOf(e));
    }
  }
  // Leaf folders first, their parents after: all finish before any answer, so the order is only tidy.
  const failed = new Map<string, ThreadError>();
  for (const dir of [...toSync].sort((a, b) => b.length - a.length)) {
    try {
      syncDirSync(dir);
    } catch (e) {
      failed.set(dir, errorOf(e));
      dirSyncFailed = true;
    }
  }
  jobs.forEach((job, i) => {
    if (typeof out[i] !== 'string' || out[i] === 'damaged') return;
    const dirFailure = needs[i]!.map((d) => failed.get(d)).find((f) => f !== undefined);
    if (dirFailure) out[i] = dirFailure;
    else {
      if (learns[i]) knownDirs.add(path.dirname(job.file));
      if (syncedFiles.size >= SYNCED_FILES_MAX) syncedFiles.clear();
      syncedFiles.add(job.file);
    }
  });
  return { out, files, dirs: toSync.size };
}

const port = parentPort;
/** Messages are handled one after another: a read may first wait for a deriver module to load. */
let turn: Promise<void> = Promise.resolve();
if (port) {
  port.on('message', (m: ToThread) => {
    // A failure stays what it was before reads could wait: an uncaught error that ends the thread.
    turn = turn
      .then(() => handle(port, m))
      .catch((e: unknown) => {
        setImmediate(() => {
          throw e;
        });
      });
  });
}

async function handle(port: MessagePort, m: ToThread): Promise<void> {
  if (m.op === 'exit') process.exit(1);
  if (m.op === 'close') process.exit(0);
  if (m.op === 'load') return loadDerivers(m.derivers);
  if (m.op === 'read') {
    if (m.derivers) await loadDerivers(m.derivers);
    const out: ReadAnswer[] = [];
    let clean = '';
    const moved: ArrayBuffer[] = [];
    try {
      for (const [i, job] of m.files.entries()) {
        const [a, ok] = readOne(job, m.derivers?.[i] ?? null);
        out.push(a);
        clean += ok ? '1' : '0';
        if (a instanceof Uint8Array) moved.push(a.buffer as ArrayBuffer);
      }
    } finally {
      endRowReads();
    }
    const reply: FromThread = { id: m.id, out, clean };
    port.postMessage(reply, moved);
    return;
  }
  const { out, files, dirs } = writeBatch(m.jobs);
  const reply: FromThread = { id: m.id, out, syncs: { files, dirs } };
  port.postMessage(reply);
}
