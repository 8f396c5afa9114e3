/**
 * Blob writes on threads (blob-thread.ts). A durable put through the
 * callback fs API is about nine trips through libuv's pool (access, mkdir,
 * open, write, fsync, close, rename, folder open/fsync/close), each a
 * submission and a callback on the event loop. Here the event loop sends a
 * batch of writes in one message and gets one answer after the thread has
 * written, fsynced and renamed every file and fsynced their folders.
 *
 * Each top-level fan-out folder belongs to one thread, so puts into the
 * same folder are never durable-checked by two threads at once (one thread
 * cannot answer for a folder entry another is still syncing). While a batch
 * is out, the next writes wait and go together (group commit). A thread that
 * dies fails the writes it held (the caller answers "try later"); the next
 * write starts a new one.
 */
import { Worker } from 'node:worker_threads';
import { blobThreadUrl, endThread } from './thread-file.js';
import { isThreadError, type FromThread, type ToThread, type WriteAnswer, type WriteJob } from './thread-protocol.js';

/** Writer threads: fsyncs of files in different folders then run in parallel, as libuv's pool ran them. */
const THREADS = 2;
/** Writes per message; more wait for the next. */
const MAX_BATCH = 256;
/** A thread with nothing to do for this long ends (the next write starts one again), unless kept warm. */
const IDLE_MS = 10_000;

export type WriteOutcome = 'stored' | 'existing' | 'damaged';

interface Pending {
  readonly job: WriteJob;
  readonly resolve: (o: WriteOutcome) => void;
  readonly reject: (e: Error) => void;
}

function threadError(a: { code: string; message: string }): Error {
  return Object.assign(new Error(a.message), { code: a.code });
}

class WriterThread {
  private readonly worker: Worker;
  /** Settles with the exit code once the thread has ended. */
  private readonly exited: Promise<number>;
  private inFlight: { id: number; batch: Pending[] } | null = null;
  private waiting: Pending[] = [];
  private idle: NodeJS.Timeout | null = null;
  private ended = false;
  private drained: (() => void)[] = [];

  constructor(
    private readonly nextId: () => number,
    private readonly gone: (t: WriterThread, unsent: Pending[], died: boolean) => void,
    private readonly synced: (s: { files: number; dirs: number }) => void,
    url: URL,
    /** Sync the parents of every folder the thread meets (a writer thread died in this process). */
    strictDirs: boolean,
    /** Whether the thread stays when idle (BlobWriter.keepWarm). */
    private readonly warm: () => boolean,
    private readonly idleMs: number,
  ) {
    this.worker = new Worker(url, { env: {}, stdout: false, stderr: false, workerData: { strictDirs } });
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.unref();
    this.worker.on('message', (m: FromThread) => this.answer(m));
    this.worker.on('error', () => this.fail());
    this.worker.on('exit', () => this.fail());
  }

  get busy(): boolean {
    return this.inFlight !== null || this.waiting.length > 0;
  }

  add(p: Pending): void {
    this.waiting.push(p);
    if (!this.inFlight) this.sendWaiting();
  }

  /** Ends the thread at once, as a crash would (tests). */
  crash(): void {
    this.worker.postMessage({ op: 'exit' } satisfies ToThread);
  }

  private sendWaiting(): void {
    if (this.ended || this.waiting.length === 0) return;
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const batch = this.waiting.slice(0, MAX_BATCH);
    this.waiting = this.waiting.slice(MAX_BATCH);
    this.inFlight = { id: this.nextId(), batch };
    // Held while it owes answers: a process waiting only for a put must not exit under it.
    this.worker.ref();
    const msg: ToThread = { op: 'write', id: this.inFlight.id, jobs: batch.map((p) => p.job) };
    // The containers are ours (encoded for this write): moved, not copied.
    this.worker.postMessage(msg, batch.map((p) => p.job.container.buffer as ArrayBuffer));
  }

  private answer(m: FromThread): void {
    const sent = this.inFlight;
    if (!sent || sent.id !== m.id) return;
    this.inFlight = null;
    if (m.syncs) this.synced(m.syncs);
    sent.batch.forEach((p, i) => {
      const a = m.out[i] as WriteAnswer | undefined;
      if (a === undefined) p.reject(Object.assign(new Error('no answer from the blob writer thread'), { code: 'EIO' }));
      else if (isThreadError(a)) p.reject(threadError(a));
      else p.resolve(a);
    });
    if (this.waiting.length > 0) return this.sendWaiting();
    this.worker.unref();
    this.notifyDrained();
    if (this.warm()) return;
    this.idle = setTimeout(() => this.retire(), this.idleMs);
    this.idle.unref();
  }

  /** Idle: leaves the writer's table before it ends, so no write is handed to a thread on its way out. */
  private retire(): void {
    this.ended = true;
    this.gone(this, [], false);
    void this.stop().catch(() => undefined);
  }

  private notifyDrained(): void {
    const waiters = this.drained;
    this.drained = [];
    for (const w of waiters) w();
  }

  /** The thread ended or broke: the writes it held fail (their outcome is unknown); unsent ones go elsewhere. */
  private fail(): void {
    if (this.ended) return;
    this.ended = true;
    this.worker.unref();
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const held = this.inFlight?.batch ?? [];
    this.inFlight = null;
    const unsent = this.waiting;
    this.waiting = [];
    const err = (): Error => Object.assign(new Error('the blob writer thread ended before the write was durable'), { code: 'EIO' });
    for (const p of held) p.reject(err());
    this.notifyDrained();
    this.gone(this, unsent, true);
  }

  /** Resolves once nothing is in flight or waiting. */
  drain(): Promise<void> {
    if (!this.busy || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  stop(): Promise<number> {
    return endThread(this.worker, this.exited);
  }
}

/**
 * Durable blob writes on threads. `write()` returns null when no thread can
 * run (not built, or threads cannot start here): the caller then writes on
 * the event loop as before.
 */
export class BlobWriter {
  private readonly threads = new Map<number, WriterThread>();
  private nextId = 1;
  private broken = false;
  private closed = false;
  private warm = false;
  /** A thread died here: folders it made may lack synced parent entries, so later threads sync them for every folder. */
  private threadDied = false;
  /** Fsyncs the threads made (files, folders): tests check that answers come after them. */
  readonly syncs = { files: 0, dirs: 0 };

  constructor(
    private readonly threadCount = THREADS,
    private readonly idleMs = IDLE_MS,
  ) {}

  /** Null: no thread available, write in-process. */
  write(job: WriteJob): Promise<WriteOutcome> | null {
    const slot = parseInt(job.blobId.slice(0, 2), 16) % this.threadCount;
    const thread = this.threadFor(slot);
    if (!thread) return null;
    return new Promise((resolve, reject) => thread.add({ job, resolve, reject }));
  }

  /** Ends every thread at once, as a crash would (tests). */
  crashThreads(): void {
    for (const t of this.threads.values()) t.crash();
  }

  /** Starts every thread now and keeps them while the writer is open (see BlobFileReader.keepWarm). */
  keepWarm(): void {
    this.warm = true;
    for (let slot = 0; slot < this.threadCount; slot++) this.threadFor(slot);
  }

  /** How many threads are running (tests). */
  get running(): number {
    return this.threads.size;
  }

  private threadFor(slot: number): WriterThread | null {
    if (this.broken || this.closed) return null;
    const had = this.threads.get(slot);
    if (had) return had;
    const url = blobThreadUrl();
    if (!url) return null;
    try {
      const t = new WriterThread(
        () => this.nextId++,
        (gone, unsent, died) => this.lost(slot, gone, unsent, died),
        (s) => {
          this.syncs.files += s.files;
          this.syncs.dirs += s.dirs;
        },
        url,
        this.threadDied,
        () => this.warm && !this.closed,
        this.idleMs,
      );
      this.threads.set(slot, t);
      return t;
    } catch {
      this.broken = true; // threads cannot start here: write without them
      return null;
    }
  }

  private lost(slot: number, t: WriterThread, unsent: Pending[], died: boolean): void {
    if (died) this.threadDied = true;
    if (this.threads.get(slot) === t) this.threads.delete(slot);
    if (unsent.length === 0) return;
    const next = this.threadFor(slot);
    if (next) for (const p of unsent) next.add(p);
    else for (const p of unsent) p.reject(Object.assign(new Error('no blob writer thread could start'), { code: 'EIO' }));
  }

  /** Waits for writes in flight, then ends the threads; later writes run in-process. */
  async close(): Promise<void> {
    this.closed = true;
    const threads = [...this.threads.values()];
    await Promise.all(threads.map((t) => t.drain()));
    await Promise.all(threads.map((t) => t.stop()));
  }
}
