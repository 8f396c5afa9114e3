import type { BlobRef, BlobStore, IntegrityEvent } from '../../types.js';
import { DEFAULT_BLOCK_SIZE, contentDigest, encodeBlob, readBlobData, verifyBlob, type DecodeResult } from '../../../crypto/blockcodec.js';
import { BLOB_ID_RE, checkBlobId, checkContainerOf, settleBlob } from '../blob-check.js';
import { isStorageFullCode, PosternError } from '../../../core/errors.js';
import type { Pool } from './db.js';

/** Ids listed per query while iterating. */
const LIST_PAGE = 1000;

/** A Buffer view of the bytes (pg sends Buffers as binary parameters), without a copy. */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** PostgreSQL's disk_full (53100) becomes STORAGE_FULL, the error itself its cause, as the file store does with ENOSPC. */
function diskFull(e: unknown): never {
  if (isStorageFullCode((e as { code?: string }).code)) throw new PosternError('STORAGE_FULL', 'the database server is out of disk space', { cause: e });
  throw e;
}

/**
 * Content-addressed blobs in PostgreSQL, so every node sees the same ones:
 * the row key is the SHA-256 of the bytes, the value the same checksummed
 * container (crypto/blockcodec) the file store writes. As there, every read
 * verifies every block, repairs a single flipped bit per block, writes the
 * repaired container back and reports what it found. A write is durable when
 * its autocommit statement returns (synchronous_commit on).
 */
export class PgBlobStore implements BlobStore {
  private readonly reporters: ((e: IntegrityEvent) => void)[] = [];

  /** With `ownsPool`, close() ends the pool; otherwise the metadata store that shares it does. */
  constructor(
    private readonly pool: Pool,
    private readonly ownsPool = false,
  ) {}

  onIntegrity(fn: (e: IntegrityEvent) => void): void {
    this.reporters.push(fn);
  }

  private report(e: IntegrityEvent): void {
    for (const fn of this.reporters) fn(e);
  }

  async put(data: Uint8Array): Promise<BlobRef> {
    const digest = contentDigest(data);
    const id = digest.toString('hex');
    const container = asBuffer(encodeBlob(data, DEFAULT_BLOCK_SIZE, digest));
    // New bytes take one statement. Another node storing the same bytes at the same moment stores the same container.
    // Stored again, an existing blob counts as freshly written (written_at), so garbage collection
    // keeps it until the caller's row references it; the row lock orders this against a collector's DELETE.
    const r = await this.pool
      .query<{ inserted: boolean }>(
        'INSERT INTO blobs (id, container, written_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at RETURNING (xmax = 0) AS inserted',
        [id, container, Date.now()],
      )
      .catch(diskFull);
    if (r.rows[0]?.inserted) return { id, size: data.length };
    // Identical bytes are stored once; but a damaged existing copy is replaced, not trusted.
    const existing = await this.check(id).catch(() => null);
    if (!existing?.ok) {
      await this.pool.query('INSERT INTO blobs (id, container) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET container = excluded.container', [id, container]);
    }
    return { id, size: data.length };
  }

  private async readRaw(id: string): Promise<Buffer> {
    checkBlobId(id);
    const r = await this.pool.query<{ container: Buffer }>('SELECT container FROM blobs WHERE id = $1', [id]);
    const row = r.rows[0];
    if (!row) {
      this.report({ kind: 'missing', blobId: id, detail: 'blob row is missing' });
      throw new PosternError('NOT_FOUND', `blob ${id} is missing`);
    }
    return row.container;
  }

  /** Applies a decode result: writes repairs back, reports events. Returns the result. */
  private settle(id: string, r: DecodeResult): Promise<DecodeResult> {
    return settleBlob(
      id,
      r,
      async (c) => {
        await this.pool.query('UPDATE blobs SET container = $2 WHERE id = $1', [id, asBuffer(c)]);
      },
      (e) => this.report(e),
    );
  }


  async get(id: string): Promise<Uint8Array> {
    const r = await this.settle(id, readBlobData(await this.readRaw(id)));
    if (!r.ok || !r.data) throw new PosternError('INTEGRITY', `blob ${id} is damaged beyond repair`);
    return r.data;
  }

  /** Verifies (and repairs) one blob without returning its bytes: the scrubber's read. */
  async check(id: string): Promise<DecodeResult> {
    return this.settle(id, verifyBlob(await this.readRaw(id)));
  }

  async has(id: string): Promise<boolean> {
    if (!BLOB_ID_RE.test(id)) return false;
    return ((await this.pool.query('SELECT 1 FROM blobs WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async storedSize(id: string): Promise<number | null> {
    checkBlobId(id);
    // octet_length of a stored bytea reads its length from the TOAST pointer, not the data.
    const r = await this.pool.query<{ n: number }>('SELECT octet_length(container) AS n FROM blobs WHERE id = $1', [id]);
    return r.rows[0]?.n ?? null;
  }

  /** The raw container, for backup: the caller verifies it (a missing blob is still reported). */
  async readContainer(id: string): Promise<Uint8Array> {
    return this.readRaw(id);
  }

  /** Stores a container taken from a backup, after checking it really is blob `id`. */
  async writeContainer(id: string, container: Uint8Array): Promise<void> {
    checkBlobId(id);
    checkContainerOf(id, container);
    await this.pool.query('INSERT INTO blobs (id, container) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET container = excluded.container', [
      id,
      asBuffer(container),
    ]);
  }

  async delete(id: string): Promise<void> {
    checkBlobId(id);
    await this.pool.query('DELETE FROM blobs WHERE id = $1', [id]);
  }

  /** Ids ascending, a page at a time (keyset), so a large store is never held in memory. */
  async *list(): AsyncIterable<string> {
    let after = '';
    for (;;) {
      const r = await this.pool.query<{ id: string }>('SELECT id FROM blobs WHERE id > $1 ORDER BY id LIMIT $2', [after, LIST_PAGE]);
      for (const row of r.rows) yield row.id;
      if (r.rows.length < LIST_PAGE) return;
      after = r.rows[r.rows.length - 1]!.id;
    }
  }

  /**
   * One DELETE per page of ids: a blob goes only if it was written before
   * `writtenBefore` and no message or queue entry references it, checked in
   * the same statement. A put() of the same bytes updates written_at under
   * the row lock, so the DELETE either sees it fresh and keeps it, or runs
   * first, and the put() then inserts the blob anew. `isUnused` is not needed.
   */
  async collectGarbage(
    ids: readonly string[],
    writtenBefore: number,
    _isUnused: (id: string) => Promise<boolean>,
    dryRun = false,
  ): Promise<{ deleted: string[]; bytes: number }> {
    const out = { deleted: [] as string[], bytes: 0 };
    const where = `id = ANY($1::text[]) AND written_at < $2
      AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = b.id) AND NOT EXISTS (SELECT 1 FROM queue_messages q WHERE q.blob_id = b.id)`;
    for (let i = 0; i < ids.length; i += LIST_PAGE) {
      const page = ids.slice(i, i + LIST_PAGE);
      const r = await this.pool.query<{ id: string; n: number }>(
        dryRun ? `SELECT id, octet_length(container) AS n FROM blobs b WHERE ${where}` : `DELETE FROM blobs b WHERE ${where} RETURNING id, octet_length(container) AS n`,
        [page, writtenBefore],
      );
      for (const row of r.rows) {
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

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
