import type { BlobRef, BlobStore, IntegrityEvent, PutOptions } from '../../types.js';
import { DEFAULT_BLOCK_SIZE, contentDigest, encodeBlob, readBlobData, verifyBlob, type DecodeResult } from '../../../crypto/blockcodec.js';
import { BLOB_ID_RE, checkBlobId, checkContainerOf, settleBlob } from '../blob-check.js';
import { isStorageFullCode, PosternError } from '../../../core/errors.js';
import type { Db } from './db.js';
import { walSyncOf } from './durability.js';
import { damagedMetadata, isDamage } from './damage.js';
import { prepared, preparedPluck } from './statements.js';

/** Ids listed per query while iterating. */
const LIST_PAGE = 1000;
/** Ids per statement in garbage collection (SQLite's default limit is 32,766 parameters). */
const GC_PAGE = 500;

/**
 * Content-addressed blobs in the metadata database itself (table `blobs`):
 * the row key is the SHA-256 of the bytes, the value the same checksummed
 * container (crypto/blockcodec) the file store writes, so every read still
 * verifies it, a single flipped bit per block is repaired (and written
 * back) and every finding is reported. The store keeps small blobs here
 * (split-blobs.ts): a put is then one row in the WAL, made durable by the
 * grouped WAL sync (durability.ts) that the queue's or mailbox's own commit
 * waits for anyway, instead of a file made, synced, renamed and its folder
 * synced, and removed again when the queue entry ends.
 *
 * Every call runs on the calling thread (better-sqlite3 is synchronous), so
 * the split store sends only blobs of a bounded size here.
 */
export class SqliteBlobs implements BlobStore {
  private readonly reporters: ((e: IntegrityEvent) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {}

  onIntegrity(fn: (e: IntegrityEvent) => void): void {
    this.reporters.push(fn);
  }

  private report(e: IntegrityEvent): void {
    for (const fn of this.reporters) fn(e);
  }

  /** Runs a statement; a damaged page becomes the metadata damage error, a full disk STORAGE_FULL. */
  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (isDamage(e)) throw damagedMetadata(this.db.name, e);
      const code = (e as { code?: string }).code;
      if (isStorageFullCode(code)) throw new PosternError('STORAGE_FULL', 'the metadata database is out of disk space', { cause: e });
      throw e;
    }
  }

  async put(data: Uint8Array, opts?: PutOptions): Promise<BlobRef> {
    const digest = contentDigest(data);
    const id = digest.toString('hex');
    const container = encodeBlob(data, DEFAULT_BLOCK_SIZE, digest);
    // New bytes (nearly every put) take one statement; only a blob already there is read back.
    const inserted = this.run(() => prepared(this.db, 'INSERT INTO blobs (id, container, written_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING').run(id, container, this.clock())).changes > 0;
    const existing = inserted ? null : this.readRawOrNull(id);
    if (existing) {
      // Identical bytes are stored once; but a damaged existing copy is replaced, not trusted. Stored
      // again, an existing blob counts as freshly written, so garbage collection keeps it until the
      // caller's row references it (both run on this one connection, each wholly before the other).
      const r = existing.equals(container) ? null : verifyBlob(existing);
      const sound = r === null || (r.ok && r.sha256 === id && r.corrections.length === 0);
      this.run(() =>
        sound
          ? prepared(this.db, 'UPDATE blobs SET written_at = ? WHERE id = ?').run(this.clock(), id)
          : prepared(this.db, 'UPDATE blobs SET container = ?, written_at = ? WHERE id = ?').run(container, this.clock(), id),
      );
    }
    // The WAL keeps commit order: the caller's synced commit makes this row durable too.
    if (!opts?.syncedByCommit) await walSyncOf(this.db).sync();
    return { id, size: data.length };
  }

  private readRawOrNull(id: string): Buffer | null {
    return (this.run(() => preparedPluck(this.db, 'SELECT container FROM blobs WHERE id = ?').get(id)) as Buffer | undefined) ?? null;
  }

  private readRaw(id: string): Buffer {
    checkBlobId(id);
    const row = this.readRawOrNull(id);
    if (!row) {
      this.report({ kind: 'missing', blobId: id, detail: 'blob row is missing' });
      throw new PosternError('NOT_FOUND', `blob ${id} is missing`);
    }
    return row;
  }

  private writeBack(id: string, container: Uint8Array): void {
    this.run(() => prepared(this.db, 'UPDATE blobs SET container = ? WHERE id = ?').run(container, id));
  }

  /** Applies a decode result: writes repairs back (durably), reports events. Returns the result. */
  private settle(id: string, r: DecodeResult): Promise<DecodeResult> {
    return settleBlob(
      id,
      r,
      async (c) => {
        this.writeBack(id, c);
        await walSyncOf(this.db).sync();
      },
      (e) => this.report(e),
    );
  }

  /** Whether the row is here: a lookup in the primary key, synchronous (the split store routes by it). */
  holds(id: string): boolean {
    return BLOB_ID_RE.test(id) && this.run(() => preparedPluck(this.db, 'SELECT 1 FROM blobs WHERE id = ?').get(id)) !== undefined;
  }

  /** Whether the table holds any row. */
  any(): boolean {
    return this.run(() => preparedPluck(this.db, 'SELECT EXISTS (SELECT 1 FROM blobs)').get()) === 1;
  }

  async get(id: string): Promise<Uint8Array> {
    const r = await this.settle(id, readBlobData(this.readRaw(id)));
    if (!r.ok || !r.data) throw new PosternError('INTEGRITY', `blob ${id} is damaged beyond repair`);
    return r.data;
  }

  /** Verifies (and repairs) one blob without returning its bytes: the scrubber's read. */
  async check(id: string): Promise<DecodeResult> {
    return this.settle(id, verifyBlob(this.readRaw(id)));
  }

  async has(id: string): Promise<boolean> {
    return this.holds(id);
  }

  async storedSize(id: string): Promise<number | null> {
    checkBlobId(id);
    // length() of a BLOB reads the stored size from the record header, not the data.
    return (this.run(() => preparedPluck(this.db, 'SELECT length(container) FROM blobs WHERE id = ?').get(id)) as number | undefined) ?? null;
  }

  /** The raw container, for backup: the caller verifies it (a missing blob is still reported). */
  async readContainer(id: string): Promise<Uint8Array> {
    return this.readRaw(id);
  }

  /** Stores a container taken from a backup, after checking it really is blob `id`. */
  async writeContainer(id: string, container: Uint8Array): Promise<void> {
    checkBlobId(id);
    checkContainerOf(id, container);
    this.run(() =>
      prepared(this.db, 'INSERT INTO blobs (id, container, written_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET container = excluded.container').run(
        id,
        container,
        this.clock(),
      ),
    );
    await walSyncOf(this.db).sync();
  }

  async delete(id: string): Promise<void> {
    checkBlobId(id);
    // The connection runs with secure_delete (db.ts): the freed pages are zeroed.
    this.run(() => prepared(this.db, 'DELETE FROM blobs WHERE id = ?').run(id));
  }

  /** Ids ascending, a page at a time (keyset), so a large store is never held in memory. */
  async *list(): AsyncIterable<string> {
    let after = '';
    for (;;) {
      const ids = this.run(() => preparedPluck(this.db, 'SELECT id FROM blobs WHERE id > ? ORDER BY id LIMIT ?').all(after, LIST_PAGE)) as string[];
      yield* ids;
      if (ids.length < LIST_PAGE) return;
      after = ids[ids.length - 1]!;
    }
  }

  /**
   * One DELETE per page of ids: a blob goes only if it was written before
   * `writtenBefore` and no message or queue entry references it, checked in
   * the same statement. A put() of the same bytes refreshes written_at on
   * this same connection, so it runs wholly before or after the DELETE.
   * `isUnused` is not needed.
   */
  async collectGarbage(
    ids: readonly string[],
    writtenBefore: number,
    _isUnused: (id: string) => Promise<boolean>,
    dryRun = false,
  ): Promise<{ deleted: string[]; bytes: number }> {
    const out = { deleted: [] as string[], bytes: 0 };
    for (let i = 0; i < ids.length; i += GC_PAGE) {
      const page = ids.slice(i, i + GC_PAGE);
      const where = `id IN (${page.map(() => '?').join(',')}) AND written_at < ?
        AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = b.id) AND NOT EXISTS (SELECT 1 FROM queue_messages q WHERE q.blob_id = b.id)`;
      const sql = dryRun ? `SELECT id, length(container) AS n FROM blobs b WHERE ${where}` : `DELETE FROM blobs AS b WHERE ${where} RETURNING id, length(container) AS n`;
      // Not cached: the statement's text depends on the page's length.
      const rows = this.run(() => this.db.prepare(sql).all(...page, writtenBefore)) as { id: string; n: number }[];
      for (const row of rows) {
        out.deleted.push(row.id);
        out.bytes += row.n;
      }
    }
    return out;
  }

  /** Rows are written whole in one statement: a failed write leaves nothing behind. */
  async removeStaleTemp(): Promise<{ files: number; bytes: number }> {
    return { files: 0, bytes: 0 };
  }

  /** The metadata store owns the connection. */
  async close(): Promise<void> {}
}
