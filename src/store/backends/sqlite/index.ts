import Database from 'better-sqlite3';
import type { DamagedBlob, DamagedMessage, IntegrityRepo, MetadataCheckMode, MetaStore } from '../../types.js';
import { openDb, type Db } from './db.js';
import { MIGRATIONS } from './schema.js';
import { reportingDamage } from './damage.js';
import { durableRepo, walSyncOf } from './durability.js';
import { checkDb, checkDbOffThread } from './check.js';
import { SqliteAudit } from './audit.js';
import { SqliteCertificates } from './certificates.js';
import { SqliteFactors } from './factors.js';
import { SqliteSieve } from './sieve.js';
import { SqliteUrlauthKeys } from './urlauth-keys.js';
import { SqliteDirectory } from './directory.js';
import { SqliteDmarcReports } from './dmarc.js';
import { SqliteEvents } from './events.js';
import { SqliteMailboxes } from './mailboxes.js';
import { SqliteQueue } from './queue.js';
import { SqliteQuarantine, SqliteVerdicts } from './quarantine.js';
import { SqliteDeliveryTimes } from './delivery-times.js';
import { prepared, preparedPluck } from './statements.js';
import { WalCheckpointer, type CheckpointStats } from './checkpointer.js';

/** A repository over the connection: damaged pages reported clearly, writes durable before they resolve. */
const sqliteRepo = <T extends object>(repo: T, db: Db): T => reportingDamage(durableRepo(repo, db), db.name);

export class SqliteMetaStore implements MetaStore {
  readonly directory: SqliteDirectory;
  readonly queue: SqliteQueue;
  readonly quarantine: SqliteQuarantine;
  readonly verdicts: SqliteVerdicts;
  readonly deliveryTimes: SqliteDeliveryTimes;
  readonly mailboxes: SqliteMailboxes;
  readonly events: SqliteEvents;
  readonly integrity: SqliteIntegrity;
  readonly dmarcReports: SqliteDmarcReports;
  readonly audit: SqliteAudit;
  readonly certificates: SqliteCertificates;
  readonly factors: SqliteFactors;
  readonly sieve: SqliteSieve;
  readonly urlauthKeys: SqliteUrlauthKeys;

  constructor(readonly db: Db) {
    // A damaged page met by any call becomes one clear INTEGRITY error (damage.ts).
    this.directory = sqliteRepo(new SqliteDirectory(db), db);
    this.queue = sqliteRepo(new SqliteQueue(db), db);
    this.quarantine = sqliteRepo(new SqliteQuarantine(db), db);
    this.verdicts = sqliteRepo(new SqliteVerdicts(db), db);
    this.deliveryTimes = sqliteRepo(new SqliteDeliveryTimes(db), db);
    this.mailboxes = sqliteRepo(new SqliteMailboxes(db), db);
    this.events = sqliteRepo(new SqliteEvents(db), db);
    this.integrity = sqliteRepo(new SqliteIntegrity(db), db);
    this.dmarcReports = sqliteRepo(new SqliteDmarcReports(db), db);
    this.audit = sqliteRepo(new SqliteAudit(db), db);
    this.certificates = sqliteRepo(new SqliteCertificates(db), db);
    this.factors = sqliteRepo(new SqliteFactors(db), db);
    this.sieve = sqliteRepo(new SqliteSieve(db), db);
    this.urlauthKeys = sqliteRepo(new SqliteUrlauthKeys(db), db);
  }

  static open(file: string): SqliteMetaStore {
    return new SqliteMetaStore(openDb(file));
  }

  private checkpointer: WalCheckpointer | null = null;

  /** WAL checkpoints from now on run in a thread of their own, not in the event loop's commits (checkpointer.ts). */
  checkpointInBackground(): void {
    if (this.checkpointer || !this.db.open || this.db.memory) return;
    this.checkpointer = new WalCheckpointer(this.db);
  }

  /** What the checkpoint thread has done, or null when there is none. */
  get checkpoints(): CheckpointStats | null {
    return this.checkpointer?.stats ?? null;
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    this.checkpointer = null;
    if (!this.db.open) return;
    const wal = walSyncOf(this.db);
    // What lazy writes left unsynced goes to disk before the connection ends.
    wal.syncNow();
    wal.close();
    this.db.close();
  }
}

export class SqliteIntegrity implements IntegrityRepo {
  constructor(private readonly db: Db) {}

  async checkMetadata(mode: MetadataCheckMode): Promise<string[]> {
    return checkDbOffThread(this.db, mode);
  }

  async backupTo(file: string): Promise<void> {
    // One step copies every page inside one read transaction: a consistent snapshot that
    // writers (WAL) never wait for, and that never restarts because of them.
    await this.db.backup(file, { progress: () => 0x7fffffff });
    // A self-contained single file: no -wal/-shm beside it, so it can be digested and copied.
    const copy = new Database(file);
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
  }

  async referencedBlobs(): Promise<string[]> {
    // Writes that drop a reference without a sync of their own (a purge, a stored scan result) are
    // made durable first: a blob deleted as unreferenced must not be referenced again after a power failure.
    await walSyncOf(this.db).sync();
    const rows = preparedPluck(this.db, 'SELECT blob_id FROM messages UNION SELECT blob_id FROM queue_messages ORDER BY 1').all();
    return rows as string[];
  }

  async markDamaged(blobId: string, reason: string, now: number): Promise<void> {
    prepared(this.db, 'INSERT INTO damaged_blobs (blob_id, reason, at) VALUES (?, ?, ?) ON CONFLICT (blob_id) DO UPDATE SET reason = excluded.reason, at = excluded.at')
      .run(blobId, reason, now);
  }

  async clearDamaged(blobId: string): Promise<boolean> {
    return prepared(this.db, 'DELETE FROM damaged_blobs WHERE blob_id = ?').run(blobId).changes > 0;
  }

  async isDamaged(blobId: string): Promise<boolean> {
    return prepared(this.db, 'SELECT 1 FROM damaged_blobs WHERE blob_id = ?').get(blobId) !== undefined;
  }

  async listDamaged(): Promise<DamagedBlob[]> {
    const rows = prepared(this.db, 'SELECT blob_id, reason, at FROM damaged_blobs ORDER BY blob_id').all() as { blob_id: string; reason: string; at: number }[];
    return rows.map((r) => ({ blobId: r.blob_id, reason: r.reason, at: r.at }));
  }

  async damagedMessages(): Promise<DamagedMessage[]> {
    const rows = prepared(this.db,
        `SELECT * FROM (
           SELECT m.blob_id, m.folder_id, m.uid, NULL AS queue_id FROM messages m JOIN damaged_blobs d ON d.blob_id = m.blob_id
           UNION ALL
           SELECT q.blob_id, NULL, NULL, q.id FROM queue_messages q JOIN damaged_blobs d ON d.blob_id = q.blob_id
         ) ORDER BY blob_id, queue_id IS NOT NULL, folder_id, uid, queue_id`,
      )
      .all() as { blob_id: string; folder_id: number | null; uid: number | null; queue_id: string | null }[];
    return rows.map((r) => ({ blobId: r.blob_id, folderId: r.folder_id, uid: r.uid, queueId: r.queue_id }));
  }
}

export interface MetaFileReport {
  /** PRAGMA user_version of the file, -1 if it could not be read. */
  readonly schemaVersion: number;
  /** The newest schema version this build knows; a file above it comes from a newer postern. */
  readonly knownVersion: number;
  /** integrity_check findings, or why the file could not be opened; [] when sound. */
  readonly problems: string[];
  /** Blob ids the file's messages and queue entries reference (empty when it is unsound). */
  readonly referencedBlobs: string[];
}

/**
 * Inspects a metadata file that is not in use (a backup snapshot) read-only,
 * without changing a byte of it: full integrity check, schema version and the
 * blobs it references.
 */
export function inspectMetaFile(file: string): MetaFileReport {
  const knownVersion = MIGRATIONS.length;
  let db: Db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    return { schemaVersion: -1, knownVersion, problems: [`cannot be opened: ${(e as Error).message}`], referencedBlobs: [] };
  }
  try {
    const problems = checkDb(db, 'full');
    if (problems.length > 0) return { schemaVersion: -1, knownVersion, problems, referencedBlobs: [] };
    const schemaVersion = db.pragma('user_version', { simple: true }) as number;
    const referencedBlobs = preparedPluck(db, 'SELECT blob_id FROM messages UNION SELECT blob_id FROM queue_messages ORDER BY 1').all() as string[];
    return { schemaVersion, knownVersion, problems, referencedBlobs };
  } catch (e) {
    return { schemaVersion: -1, knownVersion, problems: [`cannot be read: ${(e as Error).message}`], referencedBlobs: [] };
  } finally {
    db.close();
  }
}
