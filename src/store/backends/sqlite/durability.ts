import fs from 'node:fs';
import type { Db } from './db.js';
import { FlushGroup } from '../../flush-group.js';

/**
 * Makes commits durable without an fsync on the event loop.
 *
 * The connection runs at synchronous=NORMAL in WAL mode: a commit appends its
 * frames to the -wal file and returns without syncing. SQLite syncs the WAL
 * itself before every checkpoint and the database after it, so the only thing
 * a power failure can take is the tail of the WAL written since its last sync.
 * A write that must survive (queue entries before `250`, a delivery, an IMAP
 * STORE before its tagged OK) awaits `sync()`: an fdatasync of the -wal file
 * through its own descriptor, run in libuv's thread pool. The WAL is
 * append-only and its frames are checksummed in a chain, so a sync that starts
 * after a commit returned makes that commit and every earlier one durable.
 *
 * Group commit: while one fdatasync runs, every caller that arrives waits for
 * the next one, which starts when the first ends; one disk flush serves all of
 * them. The event loop never waits for the disk.
 */
export class WalSync {
  private fd: number | null = null;
  private readonly group = new FlushGroup(() => this.flush());
  /** Changes made by writes that need no sync of their own (see `lazy`). */
  private lazyChanges = 0;
  private readonly totalChanges;
  /** fdatasync calls made (for tests and figures). */
  syncs = 0;

  constructor(
    private readonly db: Db,
    private readonly walFile: string,
  ) {
    this.totalChanges = db.prepare('SELECT total_changes()').pluck();
  }

  /** Rows changed by this connection that a sync must cover: every change except lazy ones. */
  changeMark(): number {
    return (this.totalChanges.get() as number) - this.lazyChanges;
  }

  /**
   * Runs a write whose loss in a power failure costs nothing but a repeat or
   * a rebuild (a lease, a purge, an event, a cache row): callers are not made
   * to wait for the disk after it. The next durable commit carries it (the
   * WAL keeps commit order). Inside another transaction the write belongs to
   * that one and is synced with it.
   */
  lazy<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    const before = this.totalChanges.get() as number;
    try {
      return fn();
    } finally {
      this.lazyChanges += (this.totalChanges.get() as number) - before;
    }
  }

  /** Resolves once every commit made before the call is on disk (grouped: FlushGroup). */
  sync(): Promise<void> {
    return this.group.request();
  }

  /** The same, blocking: for close() and for callers outside the event loop's hot paths. */
  syncNow(): void {
    const fd = this.open();
    if (fd === null) return;
    fs.fdatasyncSync(fd);
    this.syncs++;
  }

  close(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Already closed: nothing to release.
    }
    this.fd = null;
  }

  private async flush(): Promise<void> {
    const fd = this.open();
    if (fd === null) {
      // No -wal file (never expected while the connection is open in WAL mode):
      // a full checkpoint writes and syncs everything into the database file.
      this.db.pragma('wal_checkpoint(FULL)');
      return;
    }
    await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
    this.syncs++;
  }

  /** The -wal file's descriptor, opened once: the file keeps its inode while any connection is open. */
  private open(): number | null {
    if (this.fd !== null) return this.fd;
    try {
      this.fd = fs.openSync(this.walFile, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return this.fd;
  }
}

const syncs = new WeakMap<Db, WalSync>();

/** The WalSync of a connection opened by openDb (one per connection). */
export function walSyncOf(db: Db): WalSync {
  let s = syncs.get(db);
  if (!s) {
    s = new WalSync(db, `${db.name}-wal`);
    syncs.set(db, s);
  }
  return s;
}

/**
 * Wraps a repository so that every call that changed rows (other than lazy
 * ones) resolves only after those rows are on disk. Reads pass untouched;
 * calls that are not promises (iterators) are returned as they are.
 */
export function durableRepo<T extends object>(repo: T, db: Db): T {
  const wal = walSyncOf(db);
  return new Proxy(repo, {
    get(target, key) {
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (!db.open) return (v as (...a: unknown[]) => unknown).apply(target, args);
        const before = wal.changeMark();
        const r = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (!(r instanceof Promise)) return r;
        // Other callers' writes may fall in between: an extra wait, never a missed one.
        const settle = async () => {
          if (db.open && wal.changeMark() !== before) await wal.sync();
        };
        return r.then(
          async (value: unknown) => {
            await settle();
            return value;
          },
          async (e: unknown) => {
            // A call that failed after committing part of its work still leaves that part durable.
            await settle().catch(() => undefined);
            throw e;
          },
        );
      };
    },
  });
}
