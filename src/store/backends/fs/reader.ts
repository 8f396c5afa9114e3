/**
 * Blob files read on threads of their own. Through the callback fs API a
 * small file costs four trips through libuv's thread pool (open, fstat,
 * read, close), each a queue hand-off and a callback on the event loop:
 * about five times the CPU of the same calls made synchronously, which a
 * SEARCH or FETCH over thousands of messages pays thousands of times. Here
 * a few threads make those calls synchronously for a batch of files (all
 * reads asked for in one turn of the event loop), and hand the bytes back in
 * one message per batch. The threads also verify containers (blob-thread.ts,
 * the same blockcodec as the event loop): a clean one comes back as checked
 * bytes, moved rather than copied; anything else comes back raw and the
 * caller decodes and settles it exactly as without threads. The threads only
 * read files they are named, hold no keys; they end when idle.
 */
import { Worker } from 'node:worker_threads';
import { readWholeFile } from './read-flags.js';
import { blobThreadUrl, endThread, threadModuleUrl } from './thread-file.js';
import { MODE_LETTER, isThreadError, parseRowSource, type FromThread, type ReadAnswer, type ReadMode, type ToThread } from './thread-protocol.js';

/** Threads reading at once: a cold disk serves several reads in parallel. */
const THREADS = 2;
/** Files per message to a thread; more waiting reads go in the next one. */
const MAX_BATCH = 256;
/** A thread with nothing to do for this long ends (the next read starts one again), unless kept warm. */
const IDLE_MS = 10_000;
/** The first batch of a burst that finds every thread idle (see batchSizes). */
const FIRST_BATCH = 32;

/**
 * How `count` reads are cut into batches. A burst that finds every thread
 * idle starts small and doubles (32, 64, 128, then MAX_BATCH), so its first
 * answers come back after 32 reads rather than 256: a FETCH or SEARCH that
 * takes its messages a thousand at a time otherwise waited a whole batch
 * (about 5 ms of reads) at the start of each thousand, with nothing to do.
 * The doubling keeps the threads ahead of the event loop, which spends more
 * per message than a thread spends reading it. Otherwise: MAX_BATCH each.
 */
export function batchSizes(count: number, idle: boolean): number[] {
  const out: number[] = [];
  let size = idle ? FIRST_BATCH : MAX_BATCH;
  for (let left = count; left > 0; left -= out[out.length - 1]!) {
    out.push(Math.min(size, left));
    size = Math.min(size * 2, MAX_BATCH);
  }
  return out;
}

/**
 * What a read gives: the raw file, or a container the thread verified as
 * clean (its data, null for verify), or for a derive read of a clean
 * container what the deriver returned.
 */
export type ReadResult = { readonly raw: Buffer } | { readonly clean: Uint8Array | null } | { readonly derived: string | null };

interface Request {
  readonly file: string;
  readonly mode: ReadMode;
  /** Mode derive: the deriver module's URL (href), as a thread loads it. */
  readonly deriver: string | null;
  readonly resolve: (r: ReadResult) => void;
  readonly reject: (e: Error) => void;
}

/** The way without threads, and where a thread fails: the raw file, which the caller verifies. */
function readRawFallback(r: Request): void {
  readSource(r.file).then((raw) => r.resolve({ raw }), r.reject);
}

/** A file's bytes; a blob row (rowSource) is the caller's to read on its own connection: ENOTHREAD. */
function readSource(file: string): Promise<Buffer> {
  if (parseRowSource(file)) return Promise.reject(Object.assign(new Error('no blob thread to read the row on'), { code: NO_THREAD }));
  return readWholeFile(file);
}

/** The error code of a row read that no thread could take (see readSource). */
const NO_THREAD = 'ENOTHREAD';

class ReaderThread {
  readonly worker: Worker;
  /** Settles with the exit code once the thread has ended. */
  private readonly exited: Promise<number>;
  readonly batches = new Map<number, Request[]>();
  private idle: NodeJS.Timeout | null = null;

  constructor(
    url: URL,
    private readonly gone: (t: ReaderThread, pending: Request[]) => void,
    /** Whether the thread stays when idle (BlobFileReader.keepWarm). */
    private readonly warm: () => boolean,
    private readonly idleMs: number,
  ) {
    this.worker = new Worker(url, { env: {}, stdout: false, stderr: false });
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.unref();
    this.worker.on('message', (m: FromThread) => this.answer(m));
    this.worker.on('error', () => this.fail());
    this.worker.on('exit', () => this.fail());
  }

  /** Has the thread load these deriver modules before its next batch (messages are handled in order). */
  load(derivers: readonly string[]): void {
    if (derivers.length > 0) this.worker.postMessage({ op: 'load', derivers } satisfies ToThread);
  }

  send(id: number, batch: Request[]): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    // Held while it owes answers: a process waiting only for a read must not exit under it.
    if (this.batches.size === 0) this.worker.ref();
    this.batches.set(id, batch);
    const derive = batch.some((r) => r.deriver !== null);
    const msg: ToThread = {
      op: 'read',
      id,
      files: batch.map((r) => MODE_LETTER[r.mode] + r.file),
      ...(derive ? { derivers: batch.map((r) => r.deriver) } : {}),
    };
    this.worker.postMessage(msg);
  }

  /** Ends the thread at once, as a crash would (tests). */
  crash(): void {
    this.worker.postMessage({ op: 'exit' } satisfies ToThread);
  }

  private answer(m: FromThread): void {
    const batch = this.batches.get(m.id);
    if (!batch) return;
    this.batches.delete(m.id);
    batch.forEach((r, i) => {
      const a = m.out[i] as ReadAnswer | undefined;
      if (m.clean?.[i] === '1' && r.mode === 'derive' && (a === null || typeof a === 'string')) r.resolve({ derived: a });
      else if (m.clean?.[i] === '1' && (a === null || a instanceof Uint8Array)) r.resolve({ clean: a });
      else if (a instanceof Uint8Array) r.resolve({ raw: Buffer.from(a.buffer, a.byteOffset, a.byteLength) });
      else {
        const err = isThreadError(a) ? a : { code: 'EIO', message: 'no answer from the reader thread' };
        r.reject(Object.assign(new Error(err.message), { code: err.code }));
      }
    });
    if (this.batches.size === 0) {
      this.worker.unref();
      if (this.warm()) return;
      this.idle = setTimeout(() => void this.stop().catch(() => undefined), this.idleMs);
      this.idle.unref();
    }
  }

  /** The thread ended or broke: what it still owed is read the other way. */
  private fail(): void {
    this.worker.unref();
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const pending = [...this.batches.values()].flat();
    this.batches.clear();
    this.gone(this, pending);
  }

  stop(): Promise<number> {
    return endThread(this.worker, this.exited);
  }
}

/** Reads files in batches on a few threads; falls back to the callback API when a thread cannot run. */
export class BlobFileReader {
  private readonly threads: ReaderThread[] = [];
  private waiting: Request[] = [];
  private scheduled = false;
  private nextId = 1;
  private broken = false;
  private closed = false;
  private warm = false;

  constructor(private readonly idleMs = IDLE_MS) {}

  /** Deriver modules by the URL asked for: the built module a thread imports, or null when there is none. */
  private readonly derivers = new Map<string, string | null>();
  /** Deriver modules (hrefs as threads load them) that every thread loads when it starts (keepWarm). */
  private readonly preload: string[] = [];

  /** Reads made, by how they were answered: clean (verified on a thread), raw (to verify on the event loop). */
  readonly counts = { clean: 0, raw: 0 };

  /** The file's bytes, as they are. */
  async read(file: string): Promise<Buffer> {
    const r = await this.readAs(file, 'raw', null);
    if ('raw' in r) return r.raw;
    throw new Error(`reading ${file}: a raw read was answered as checked`);
  }

  /**
   * A blob's container (its file named by the blob's id, the digest it must
   * carry), verified on a thread when it can be: decode
   * gives its data, verify only the verdict. Raw when it needs the event
   * loop's judgement (repair, damage) or no thread could check it.
   */
  readChecked(file: string, mode: 'decode' | 'verify'): Promise<ReadResult> {
    return this.counted(this.readAs(file, mode, null));
  }

  /**
   * As readChecked in mode decode, but a clean container's data goes to the
   * deriver module's derive() on the thread, and its result comes back
   * instead (BlobStore.getDerived); the data when it cannot run there.
   */
  readDerived(file: string, deriver: URL): Promise<ReadResult> {
    const url = this.threadUrlOf(deriver);
    return this.counted(url === null ? this.readAs(file, 'decode', null) : this.readAs(file, 'derive', url));
  }

  private counted(read: Promise<ReadResult>): Promise<ReadResult> {
    return read.then((r) => {
      if ('raw' in r) this.counts.raw++;
      else this.counts.clean++;
      return r;
    });
  }

  /** Ends every thread at once, as a crash would (tests). */
  crashThreads(): void {
    for (const t of this.threads) t.crash();
  }

  /**
   * Starts every thread now and keeps them while the reader is open (a
   * server): a thread's start (about 40-60 ms here, most of it loading its
   * modules) is otherwise paid by the first read after each idle spell.
   * Each thread also loads the given deriver modules at once (and any thread
   * started later does too), so the first SEARCH does not wait for them.
   */
  keepWarm(derivers: readonly URL[] = []): void {
    this.warm = true;
    for (const d of derivers) {
      const url = this.threadUrlOf(d);
      if (url !== null && !this.preload.includes(url)) this.preload.push(url);
    }
    for (const t of this.threads) t.load(this.preload);
    for (let n = this.threads.length; n < THREADS; n++) if (!this.start()) break;
  }

  /** How many threads are running (tests). */
  get threadCount(): number {
    return this.threads.length;
  }

  /** The module a thread imports for this deriver, or null while there is none (looked for again next time). */
  private threadUrlOf(deriver: URL): string | null {
    const url = this.derivers.get(deriver.href) ?? threadModuleUrl(deriver)?.href ?? null;
    this.derivers.set(deriver.href, url);
    return url;
  }

  private readAs(file: string, mode: ReadMode, deriver: string | null): Promise<ReadResult> {
    if (this.broken || this.closed) return readSource(file).then((raw) => ({ raw }));
    return new Promise((resolve, reject) => {
      this.waiting.push({ file, mode, deriver, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // Reads asked for in the same turn go together.
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const waiting = this.waiting;
    this.waiting = [];
    const idle = this.threads.every((t) => t.batches.size === 0);
    let i = 0;
    for (const size of batchSizes(waiting.length, idle)) {
      const batch = waiting.slice(i, (i += size));
      const thread = this.pick();
      if (thread) thread.send(this.nextId++, batch);
      else for (const r of batch) readRawFallback(r);
    }
  }

  /** The thread with the fewest batches outstanding, starting one while there are fewer than THREADS. */
  private pick(): ReaderThread | null {
    // Without the compiled thread (tests before a build) every read takes the callback API.
    const url = blobThreadUrl();
    if (this.broken || this.closed || !url) return null;
    let best: ReaderThread | null = null;
    for (const t of this.threads) if (!best || t.batches.size < best.batches.size) best = t;
    if ((!best || best.batches.size > 0) && this.threads.length < THREADS) best = this.start() ?? best;
    return this.broken ? null : best;
  }

  /** A new thread, or null when none can run here (not built, closed, or threads cannot start). */
  private start(): ReaderThread | null {
    const url = blobThreadUrl();
    if (this.broken || this.closed || !url) return null;
    try {
      const t = new ReaderThread(url, (gone, pending) => this.lost(gone, pending), () => this.warm && !this.closed, this.idleMs);
      this.threads.push(t);
      t.load(this.preload);
      return t;
    } catch {
      this.broken = true; // threads cannot start here: read without them
      return null;
    }
  }

  private lost(t: ReaderThread, pending: Request[]): void {
    const i = this.threads.indexOf(t);
    if (i >= 0) this.threads.splice(i, 1);
    for (const r of pending) readRawFallback(r);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.stop()));
  }
}
