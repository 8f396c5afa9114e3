import { promises as fsp, constants as fsc, access, close, fsync, open, write } from 'node:fs';
import path from 'node:path';
import type { BlobRef, BlobStore, IntegrityEvent, DerivedRead } from '../../types.js';
import { DEFAULT_BLOCK_SIZE, contentDigest, encodeBlob, readBlobData, verifyBlob, type DecodeResult } from '../../../crypto/blockcodec.js';
import { BLOB_ID_RE, checkBlobId, checkContainerOf, settleBlob } from '../blob-check.js';
import { isStorageFullCode, PosternError } from '../../../core/errors.js';
import { newToken } from '../../../core/ids.js';
import { FlushGroup } from '../../flush-group.js';
import { BlobFileReader, type ReadResult } from './reader.js';
import { TEMP_PREFIX } from './thread-protocol.js';
import { BlobWriter, type WriteOutcome } from './writer.js';


/** fsyncs a directory so a rename or new entry in it survives power loss. */
export function syncDir(dir: string): Promise<void> {
  return new Promise((resolve, reject) =>
    open(dir, fsc.O_RDONLY, (err, fd) => {
      if (err) return reject(err);
      fsync(fd, (syncErr) => close(fd, (closeErr) => (syncErr || closeErr ? reject(syncErr ?? closeErr) : resolve())));
    }),
  );
}

/**
 * Folder fsyncs shared by concurrent writers into the same folder: a request
 * joins the next sync to start, never one already running (that one may
 * have begun before the caller's rename), so every caller's entry is
 * durable when its promise resolves, and N writes landing together cost
 * two folder syncs instead of N.
 */
export class SharedDirSync {
  private readonly dirs = new Map<string, FlushGroup>();

  constructor(private readonly syncOne: (dir: string) => Promise<void> = syncDir) {}

  sync(dir: string): Promise<void> {
    let g = this.dirs.get(dir);
    if (!g) {
      const group = new FlushGroup(() => this.syncOne(dir));
      this.dirs.set(dir, (g = group));
    }
    const group = g;
    const p = group.request();
    const forget = (): void => {
      if (group.idle && this.dirs.get(dir) === group) this.dirs.delete(dir);
    };
    p.then(forget, forget);
    return p;
  }
}

const sharedDirSync = new SharedDirSync();

/**
 * Creates `file` (it must not exist), writes `data`, fsyncs and closes it,
 * through the callback API: the promise API costs a FileHandle and a
 * promise per step, on the one thread every connection shares.
 */
export function writeNewFile(file: string, data: Uint8Array, mode: number): Promise<void> {
  return new Promise((resolve, reject) =>
    open(file, 'wx', mode, (err, fd) => {
      if (err) return reject(err);
      const finish = (e: Error | null): void => close(fd, (closeErr) => (e || closeErr ? reject(e ?? closeErr) : resolve()));
      const writeFrom = (at: number): void => {
        if (at >= data.length) return fsync(fd, finish);
        write(fd, data, at, data.length - at, null, (writeErr, n) => {
          if (writeErr) return finish(writeErr);
          if (n === 0) return finish(Object.assign(new Error(`short write to ${path.basename(file)}`), { code: 'EIO' }));
          writeFrom(at + n);
        });
      };
      writeFrom(0);
    }),
  );
}

/** The file operations a durable write makes; tests hand in failing ones (a full disk) without mounting anything. */
export interface DurableFs {
  /** Creates the file (exclusively), writes all of `data`, fsyncs and closes it. */
  writeNew(file: string, data: Uint8Array, mode: number): Promise<void>;
  rename: typeof fsp.rename;
}

const realFs: DurableFs = { writeNew: writeNewFile, rename: fsp.rename };

export { TEMP_PREFIX };
/** A temp file older than this belongs to a write that died (a crash) and is removed. */
export const TEMP_STALE_MS = 10 * 60_000;

/**
 * Writes a file durably: temp file, fsync, rename, fsync of the folder
 * (shared with writes into the same folder that finish at the same time). A
 * failed write removes its temp file, whatever step failed. A full disk or
 * quota (ENOSPC, EDQUOT) becomes PosternError STORAGE_FULL with the original
 * error as its `cause` (code intact), so callers can answer "try later".
 */
export async function writeFileDurable(file: string, data: Uint8Array, mode = 0o600, io: DurableFs = realFs): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `${TEMP_PREFIX}${newToken(8)}`);
  try {
    await io.writeNew(tmp, data, mode);
    await io.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw storageFullOr(file, e);
  }
  await sharedDirSync.sync(dir);
}

/** A full disk or quota as PosternError STORAGE_FULL (the errno in its cause); any other error as it is. */
function storageFullOr(file: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  return isStorageFullCode(code) ? new PosternError('STORAGE_FULL', `writing ${path.basename(file)}: ${code}`, { cause: e }) : e;
}

/** Sets a file's mtime to now; false if it does not exist (any more). */
async function touch(file: string): Promise<boolean> {
  const now = new Date();
  try {
    await fsp.utimes(file, now, now);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** A blob garbage collection is about to delete is first renamed to this name beside it. */
const ASIDE_PREFIX = '.gc-';

/**
 * A blob set aside by a garbage collection that did not finish (a crash) goes
 * back in place: it is collected, or kept, by the next run. If the blob was
 * stored again meanwhile, the copy set aside is redundant.
 */
async function restoreAside(dir: string, id: string): Promise<void> {
  if (!BLOB_ID_RE.test(id)) return;
  const aside = path.join(dir, ASIDE_PREFIX + id);
  const file = path.join(dir, id);
  try {
    await fsp.link(aside, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return;
  }
  await fsp.rm(aside, { force: true });
}

/** Removes temp files older than `olderThanMs` from a folder; a write in progress is younger and never touched. */
async function removeStaleTempIn(dir: string, now: number, olderThanMs: number): Promise<{ files: number; bytes: number }> {
  const out = { files: 0, bytes: 0 };
  for (const f of await readdirSafe(dir)) {
    if (f.startsWith(ASIDE_PREFIX)) {
      await restoreAside(dir, f.slice(ASIDE_PREFIX.length));
      continue;
    }
    if (!f.startsWith(TEMP_PREFIX)) continue;
    const p = path.join(dir, f);
    try {
      const st = await fsp.lstat(p);
      if (!st.isFile() || now - st.mtimeMs < olderThanMs) continue;
      await fsp.rm(p, { force: true });
      out.files++;
      out.bytes += st.size;
    } catch {
      // Renamed or removed meanwhile: nothing to clean.
    }
  }
  return out;
}

/**
 * Content-addressed blobs on the file system: the id is the SHA-256 of the
 * bytes, so a message sent to many recipients is stored once. Files live in
 * 256 fan-out folders by their first byte (ab/abcd...; layout.ts says why),
 * or in a store made before that layout, in two levels (ab/cd/abcd...).
 * Each file is a checksummed container (crypto/blockcodec, docs/blob-format.md):
 * every read verifies every block, repairs a single flipped bit per block in
 * memory, writes the repaired container back, and reports what it found.
 * Reads are verified on reader threads when the container is clean; writes
 * go through writer threads (one message per batch) unless a test hands in
 * its own DurableFs, which keeps every write on the event loop.
 */
export class FsBlobStore implements BlobStore {
  private readonly knownDirs = new Set<string>();
  private readonly dirsInFlight = new Map<string, { exists: Promise<void>; durable: Promise<void> }>();
  private readonly reporters: ((e: IntegrityEvent) => void)[] = [];
  private readonly reader = new BlobFileReader();
  /** Null when a test injects its own file operations: those run on the event loop. */
  private readonly writer: BlobWriter | null;
  /** The root, normalised, with its separator: pathOf joins by concatenation (it runs once per message a command reads). */
  private readonly prefix: string;

  constructor(
    readonly root: string,
    private readonly io: DurableFs = realFs,
    /** Fan-out levels: 1 (ab/<id>) or, in a store made before that layout, 2 (ab/cd/<id>). */
    readonly levels: FanOutLevels = 1,
  ) {
    this.writer = io === realFs ? new BlobWriter() : null;
    this.prefix = path.join(root, path.sep);
  }

  /** The reader threads, which also read small blobs kept in the database (split-blobs.ts). */
  get readers(): BlobFileReader {
    return this.reader;
  }

  /** How reads and writes were served (tests: the thread paths really ran). */
  get ioCounts(): { readonly reads: { clean: number; raw: number }; readonly syncs: { files: number; dirs: number } | null } {
    return { reads: this.reader.counts, syncs: this.writer?.syncs ?? null };
  }

  /** Ends every reader and writer thread at once, as a crash would (tests). */
  crashThreadsForTest(): void {
    this.reader.crashThreads();
    this.writer?.crashThreads();
  }

  keepWarm(derivers?: readonly URL[]): void {
    this.reader.keepWarm(derivers);
    this.writer?.keepWarm();
  }

  static async open(root: string, io?: DurableFs): Promise<FsBlobStore> {
    await fsp.mkdir(root, { recursive: true, mode: 0o700 });
    return new FsBlobStore(root, io, await openLayout(root));
  }

  onIntegrity(fn: (e: IntegrityEvent) => void): void {
    this.reporters.push(fn);
  }

  private report(e: IntegrityEvent): void {
    for (const fn of this.reporters) fn(e);
  }

  pathOf(id: string): string {
    checkBlobId(id);
    // The id is 64 hex digits (checked above), so no part of it can climb out of the root.
    return blobFileIn(this.prefix, this.levels, id);
  }

  /**
   * Makes the fan-out folder: `exists` resolves once it is there, `durable`
   * once its entries in the parent folders are synced too. A put() that finds
   * the folder being made waits for the same syncs, so none answers before
   * the folder is durable.
   */
  private ensureDir(dir: string): { exists: Promise<void>; durable: Promise<void> } {
    let pending = this.dirsInFlight.get(dir);
    if (!pending) {
      const made = fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      const durable = made
        .then(async (first) => {
          // New folders are entries in their parents (up to the root): make those durable too.
          if (first) await Promise.all([...new Set([path.dirname(dir), this.root])].map((p) => sharedDirSync.sync(p)));
          this.knownDirs.add(dir);
        })
        .finally(() => this.dirsInFlight.delete(dir));
      const exists = made.then(() => undefined);
      exists.catch(() => undefined); // a failed mkdir also fails `durable`, which every caller awaits
      pending = { exists, durable };
      this.dirsInFlight.set(dir, pending);
    }
    return pending;
  }

  async put(data: Uint8Array): Promise<BlobRef> {
    const digest = contentDigest(data);
    const id = digest.toString('hex');
    const file = this.pathOf(id);
    // On a writer thread: dedupe check, folder, write, syncs in one round trip. A copy
    // there that is not clean comes back 'damaged' and is settled below, as always.
    const container = encodeBlob(data, DEFAULT_BLOCK_SIZE, digest);
    const outcome = await this.writeOnThread(id, file, container, false);
    if (outcome === 'stored' || outcome === 'existing') return { id, size: data.length };
    // No thread: the container is still ours. 'damaged': the thread took it (moved), so it is encoded again.
    await this.putInProcess(id, file, outcome === null ? container : encodeBlob(data, DEFAULT_BLOCK_SIZE, digest));
    return { id, size: data.length };
  }

  /** The writer thread's outcome, or null when there is none (then the caller writes in-process). */
  private async writeOnThread(id: string, file: string, container: Uint8Array, replace: boolean): Promise<WriteOutcome | null> {
    const written = this.writer?.write({ file, blobId: id, container, replace });
    if (!written) return null;
    try {
      return await written;
    } catch (e) {
      throw storageFullOr(file, e);
    }
  }

  private async putInProcess(id: string, file: string, container: Uint8Array): Promise<void> {
    // Identical bytes are stored once; but a damaged existing copy is replaced, not trusted.
    if (await this.has(id)) {
      const existing = await this.check(id).catch(() => null);
      // Stored again: the blob counts as freshly written, so garbage collection keeps it until
      // the caller's row references it. Gone meanwhile (collected): it is written anew below.
      if (existing?.ok && (await touch(file))) return;
    }
    const dir = path.dirname(file);
    if (this.knownDirs.has(dir)) return writeFileDurable(file, container, 0o600, this.io);
    // A new folder's parent syncs run alongside the file's own write and sync
    // (they are independent), instead of two more serial rounds to the disk
    // before it: while a store is young most messages make a new folder.
    const folder = this.ensureDir(dir);
    const written = folder.exists.then(() => writeFileDurable(file, container, 0o600, this.io));
    // Both settle before put() answers, so a failure of either is the caller's, never unhandled.
    const [dirResult, fileResult] = await Promise.allSettled([folder.durable, written]);
    if (dirResult.status === 'rejected') throw dirResult.reason;
    if (fileResult.status === 'rejected') throw fileResult.reason;
  }

  private async readRaw(id: string): Promise<Buffer> {
    return this.missingAsNotFound(id, this.reader.read(this.pathOf(id)));
  }

  /** The container verified on a reader thread when clean, else raw for readBlobData/verifyBlob here. */
  private readChecked(id: string, mode: 'decode' | 'verify'): Promise<ReadResult> {
    return this.missingAsNotFound(id, this.reader.readChecked(this.pathOf(id), mode));
  }

  private async missingAsNotFound<T>(id: string, read: Promise<T>): Promise<T> {
    try {
      return await read;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.report({ kind: 'missing', blobId: id, detail: 'blob file is missing' });
        throw new PosternError('NOT_FOUND', `blob ${id} is missing`);
      }
      throw e;
    }
  }

  /** Applies a decode result: writes repairs back, reports events. Returns the result. */
  private settle(id: string, r: DecodeResult): Promise<DecodeResult> {
    return settleBlob(
      id,
      r,
      (c) => writeFileDurable(this.pathOf(id), c, 0o600, this.io),
      (e) => this.report(e),
    );
  }


  async get(id: string): Promise<Uint8Array> {
    return this.decoded(id, await this.readChecked(id, 'decode'));
  }

  /** What the deriver made of the blob on a reader thread that verified it, else the bytes as get() gives them. */
  async getDerived(id: string, deriver: URL): Promise<DerivedRead> {
    const got = await this.missingAsNotFound(id, this.reader.readDerived(this.pathOf(id), deriver));
    if ('derived' in got) return got;
    return { data: await this.decoded(id, got) };
  }

  /** The data of a decoding read: checked on a thread, or decoded and settled here. */
  private async decoded(id: string, got: ReadResult): Promise<Uint8Array> {
    if (!('raw' in got)) {
      // Clean on the thread: the verdict settle() passes through untouched (sound, nothing to repair).
      if ('clean' in got && got.clean) return got.clean;
      throw new PosternError('INVARIANT', `blob ${id}: a decoding read came back without data`);
    }
    const r = await this.settle(id, readBlobData(got.raw));
    if (!r.ok || !r.data) throw new PosternError('INTEGRITY', `blob ${id} is damaged beyond repair`);
    return r.data;
  }

  /** Verifies (and repairs) one blob without returning its bytes: the scrubber's read. */
  async check(id: string): Promise<DecodeResult> {
    const got = await this.readChecked(id, 'verify');
    if (!('raw' in got)) return { ok: true, data: null, corrections: [], damage: [], repaired: null, sha256: id };
    return this.settle(id, verifyBlob(got.raw));
  }

  has(id: string): Promise<boolean> {
    const file = this.pathOf(id);
    return new Promise((resolve) => access(file, (err) => resolve(!err)));
  }

  async storedSize(id: string): Promise<number | null> {
    try {
      return (await fsp.stat(this.pathOf(id))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** The raw container, for backup: the caller verifies it (a missing file is still reported). */
  async readContainer(id: string): Promise<Uint8Array> {
    return this.readRaw(id);
  }

  /** Stores a container taken from a backup, after checking it really is blob `id`. */
  async writeContainer(id: string, container: Uint8Array): Promise<void> {
    const file = this.pathOf(id);
    checkContainerOf(id, container);
    // Own bytes for the thread to take: the caller keeps its container.
    if ((await this.writeOnThread(id, file, new Uint8Array(container), true)) !== null) return;
    await this.ensureDir(path.dirname(file)).durable;
    await writeFileDurable(file, container, 0o600, this.io);
  }

  async delete(id: string): Promise<void> {
    await fsp.rm(this.pathOf(id), { force: true });
  }

  async *list(): AsyncIterable<string> {
    for (const dir of await this.leafFolders()) {
      for (const f of await readdirSafe(dir)) {
        if (BLOB_ID_RE.test(f)) yield f;
      }
    }
  }

  /** The folders blob files are in, in name order: ab/ (one level) or ab/cd/ (two). */
  private async leafFolders(): Promise<string[]> {
    const out: string[] = [];
    for (const a of await readdirSafe(this.root)) {
      if (!FANOUT_RE.test(a)) continue;
      const top = path.join(this.root, a);
      if (this.levels === 1) out.push(top);
      else for (const b of await readdirSafe(top)) if (FANOUT_RE.test(b)) out.push(path.join(top, b));
    }
    return out;
  }

  /**
   * Per blob: skipped if written at or after `writtenBefore`; else renamed
   * aside (so a concurrent put() no longer finds it and writes it anew), then
   * checked again: still unused and not touched by a put() that found it just
   * before, it is deleted, otherwise put back. A crash in between leaves the
   * blob aside, and the next start, scrub or gc puts it back.
   */
  async collectGarbage(
    ids: readonly string[],
    writtenBefore: number,
    isUnused: (id: string) => Promise<boolean>,
    dryRun = false,
  ): Promise<{ deleted: string[]; bytes: number }> {
    const out = { deleted: [] as string[], bytes: 0 };
    for (const id of ids) {
      const file = this.pathOf(id);
      const st = await fsp.stat(file).catch(() => null);
      if (!st || st.mtimeMs >= writtenBefore) continue;
      if (dryRun) {
        if (await isUnused(id)) {
          out.deleted.push(id);
          out.bytes += st.size;
        }
        continue;
      }
      const aside = path.join(path.dirname(file), ASIDE_PREFIX + id);
      try {
        await fsp.rename(file, aside);
      } catch {
        continue; // gone meanwhile (another collector)
      }
      let keep = true;
      try {
        const again = await fsp.stat(aside);
        keep = again.mtimeMs >= writtenBefore || !(await isUnused(id));
        if (!keep) {
          await fsp.rm(aside);
          out.deleted.push(id);
          out.bytes += again.size;
        }
      } finally {
        if (keep) await restoreAside(path.dirname(file), id);
      }
    }
    // No folder fsync: a deletion that a crash undoes leaves an unreferenced blob, which the next run collects.
    return out;
  }

  async removeStaleTemp(now: number, olderThanMs = TEMP_STALE_MS): Promise<{ files: number; bytes: number }> {
    const total = { files: 0, bytes: 0 };
    const add = (r: { files: number; bytes: number }) => {
      total.files += r.files;
      total.bytes += r.bytes;
    };
    add(await removeStaleTempIn(this.root, now, olderThanMs));
    for (const dir of await this.leafFolders()) add(await removeStaleTempIn(dir, now, olderThanMs));
    return total;
  }

  async close(): Promise<void> {
    await Promise.all([this.reader.close(), this.writer?.close()]);
  }
}

const FANOUT_RE = /^[0-9a-f]{2}$/;

export type FanOutLevels = 1 | 2;

/** A blob's file in a blob folder (`prefix`: its path with a trailing separator) of `levels` fan-out levels. */
export function blobFileIn(prefix: string, levels: FanOutLevels, id: string): string {
  if (levels === 1) return `${prefix}${id.slice(0, 2)}${path.sep}${id}`;
  return `${prefix}${id.slice(0, 2)}${path.sep}${id.slice(2, 4)}${path.sep}${id}`;
}

/** The file in a blob folder that names its layout (a store made before it has none: two levels). */
export const LAYOUT_FILE = 'layout';
const ONE_LEVEL = 'postern blobs: one fan-out level (ab/<id>)\n';

/**
 * The fan-out levels of the blob folder at `root`, from its layout file. A
 * folder without one holding fan-out folders was made with two levels and
 * keeps them; an empty one is new: it gets one level, and the file (synced,
 * with its entry) before any blob is written, so a crash cannot leave blobs
 * in a folder whose layout is unknown.
 *
 * Why one level: two levels (65,536 leaf folders) meant that while a store
 * held fewer than a few hundred thousand blobs nearly every put made a
 * folder, and paid a mkdir and one more folder sync for it (22 % of puts
 * still did at 100,000 messages). 256 folders exist after the first
 * thousand or so puts; a folder of 1,000,000 blobs holds about 3,900 names,
 * which ext4's hashed directories look up in constant time.
 */
export async function openLayout(root: string): Promise<FanOutLevels> {
  const file = path.join(root, LAYOUT_FILE);
  let text: string | null = null;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text === ONE_LEVEL) return 1;
  if (text !== null) {
    throw new PosternError('CONFIG_INVALID', `${file}: unknown blob layout ${JSON.stringify(text.slice(0, 60))} (this build knows ${JSON.stringify(ONE_LEVEL)}, or no file for two levels)`);
  }
  if ((await readdirSafe(root)).some((f) => FANOUT_RE.test(f))) return 2;
  await writeFileDurable(file, Buffer.from(ONE_LEVEL), 0o600);
  return 1;
}

async function readdirSafe(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir)).sort();
  } catch {
    return [];
  }
}
