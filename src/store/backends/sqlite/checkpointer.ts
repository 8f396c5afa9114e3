/**
 * WAL checkpoints off the event loop. Left to itself, SQLite checkpoints
 * inside the commit that takes the WAL past 1,000 pages, on the connection
 * that commits: for the server that is the event loop, which then syncs the
 * WAL, writes up to a thousand pages into the database file and syncs that
 * too before any connection is served again. An SMTP message writes about 36
 * pages, so that happened every 25 to 30 messages.
 *
 * A long-running server instead has a thread with its own connection run a
 * PASSIVE checkpoint (it never waits for readers or writers) every
 * INTERVAL_MS, and raises the commit-time threshold to SAFETY_PAGES, which
 * only a thread that cannot keep up (or has died) lets the WAL reach. The
 * main connection's next write restarts the WAL from its start once every
 * frame is in the database, so the file does not grow. Durability is
 * untouched: commits are made durable by syncing the WAL (durability.ts), and
 * a checkpoint syncs the WAL before it copies frames and the database after.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './db.js';

/** How often the thread checkpoints: the longer, the more each one writes and syncs at once (and the longer a commit can wait behind it). */
export const INTERVAL_MS = 50;
/** The commit-time threshold while the thread runs (64 MiB of 4 KiB pages). */
export const SAFETY_PAGES = 16_384;
/** SQLite's own threshold, restored when the thread stops. */
const DEFAULT_PAGES = 1000;

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db = null;
let timer = null;
const report = (e) => parentPort.postMessage({ error: String(e && e.message), code: e && e.code });
try {
  db = new Database(workerData.file, { fileMustExist: true });
  db.pragma('busy_timeout = 0');
  const run = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  // Changes when another connection commits: an idle store is neither checkpointed nor reported on.
  const version = db.prepare('PRAGMA data_version').pluck();
  let seen = null;
  let whole = true;
  timer = setInterval(() => {
    try {
      const v = version.get();
      if (v === seen && whole) return;
      seen = v;
      const [busy, log, done] = run.raw().get();
      // A reader holding old frames leaves some behind: tried again next time.
      whole = done === log;
      parentPort.postMessage({ busy, log, done });
    } catch (e) {
      report(e);
    }
  }, workerData.intervalMs);
} catch (e) {
  report(e);
}
parentPort.on('message', () => {
  if (timer) clearInterval(timer);
  try {
    if (db) db.close();
  } catch (e) {
    report(e);
  }
  process.exit(0);
});
`;

const driver = createRequire(import.meta.url).resolve('better-sqlite3');

/** What the thread has done (for tests and figures). */
export interface CheckpointStats {
  /** Checkpoints run (one after each tick that found new commits, or frames left behind). */
  runs: number;
  /** The WAL's frames at the last one, and how many of them were in the database after it. */
  lastLog: number;
  lastDone: number;
  /** The last error the thread met (it keeps trying), or null. */
  lastError: string | null;
}

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  readonly stats: CheckpointStats = { runs: 0, lastLog: 0, lastDone: 0, lastError: null };
  private stopped = false;

  constructor(
    private readonly db: Db,
    intervalMs = INTERVAL_MS,
  ) {
    this.worker = new Worker(THREAD, { eval: true, workerData: { driver, file: db.name, intervalMs }, env: {}, stdout: false, stderr: false });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (m: { busy?: number; log?: number; done?: number; error?: string }) => {
      if (m.error !== undefined) this.stats.lastError = m.error;
      else {
        this.stats.runs++;
        this.stats.lastLog = m.log ?? 0;
        this.stats.lastDone = m.done ?? 0;
      }
    });
    // A thread that fails leaves checkpoints to SQLite at the safety threshold: nothing is lost.
    this.worker.on('error', (e) => {
      this.stats.lastError = e.message;
    });
    db.pragma(`wal_autocheckpoint = ${SAFETY_PAGES}`);
  }

  /** Ends the thread and gives checkpoints back to SQLite's commits. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.postMessage('stop');
    const late = setTimeout(() => {
      this.worker.terminate().catch(() => undefined);
    }, 5000);
    await this.exited;
    clearTimeout(late);
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${DEFAULT_PAGES}`);
  }
}
