import Database from 'better-sqlite3';
import { MIGRATIONS } from './schema.js';
import { damagedMetadata, isDamage } from './damage.js';
import { walSyncOf } from './durability.js';

export type Db = Database.Database;

/**
 * Opens the metadata database with the settings durability depends on:
 * WAL journal, synchronous=NORMAL (a commit returns without syncing; the
 * repositories wait for a grouped sync of the WAL in the thread pool before a
 * write's promise resolves: durability.ts), foreign keys on, a busy
 * timeout so a second process (the CLI while the server runs) waits instead
 * of failing, and temporary data in memory: SQLite otherwise spills a
 * statement's journal (the rows it changes, as they were) and large sorts
 * to files in /var/tmp, outside the data folder, its encryption at rest and
 * its scrub; and a file made and removed every few SMTP messages costs
 * system calls besides. And secure_delete: content SQLite deletes or moves
 * (rows, cells left behind when a page is rebuilt, freed pages) is
 * overwritten with zeros, so a deleted message kept in the database
 * (blobs.ts) does not linger in its pages, which the online backup copies
 * whole.
 */
export function openDb(file: string): Db {
  let db: Db | null = null;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('temp_store = MEMORY');
    db.pragma('secure_delete = ON');
    migrate(db);
    return db;
  } catch (e) {
    if (db?.open) db.close();
    // A damaged header or schema page: say so and what to do, instead of a bare SqliteError.
    throw isDamage(e) ? damagedMetadata(file, e) : e;
  }
}

/**
 * Runs a write whose callers need not wait for the disk: the repository call
 * resolves without a sync of its own. In WAL mode the commit still survives a
 * crash of the process; only a power or kernel failure before the next synced
 * commit can lose it, and the WAL keeps commit order, so that next sync makes
 * it durable too. For rows whose loss costs no mail (leases, purges, events,
 * cache rows). Inside another transaction the write is part of that one.
 */
export function withoutSync<T>(db: Db, fn: () => T): T {
  return walSyncOf(db).lazy(fn);
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    const sql = MIGRATIONS[v]!;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
