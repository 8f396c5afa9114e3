import type { BlobCheck, BlobRef, BlobStore, DerivedRead, IntegrityEvent, PutOptions } from './types.js';
import { containerSize } from '../crypto/blockcodec.js';
import type { SqliteBlobs } from './backends/sqlite/blobs.js';
import type { BlobFileReader, ReadResult } from './backends/fs/reader.js';
import { rowSource } from './backends/fs/thread-protocol.js';

/** Where rows can be read off the event loop: the file store's reader threads, and the database file they open. */
export interface RowReads {
  readonly reader: BlobFileReader;
  readonly dbFile: string;
}

/**
 * The SQLite store's blobs: those of at most `maxInline` bytes in the
 * metadata database (SqliteBlobs), larger ones in files (FsBlobStore).
 *
 * Why: a message of a few KiB stored as a file costs a file created, synced,
 * renamed and its folder synced, on a writer thread and back, and later an
 * unlink; on this journal-less ext4 the create alone (inode allocation after
 * deletions) took longer than everything else a blob write does. In the
 * database it is one row in the WAL, made durable by the grouped WAL sync
 * that the queue's or the mailbox's own commit waits for in any case. Large
 * blobs stay files: reading and verifying them belongs off the event loop,
 * and they would bloat the WAL and every checkpoint.
 *
 * Where a blob lives is decided by its size when it is put (and `asFile`);
 * reads look in the database first and then in the files, so a blob stays
 * readable wherever an earlier `maxInline` put it, and 0 stores every new
 * blob as a file. Both parts hold the same checksummed container and report
 * integrity findings alike.
 *
 * Rows are read, verified (and a SEARCH's part derived) on the file store's
 * reader threads, each with a read-only connection of its own, when `rows`
 * is given: the event loop pays only its share of a batched hand-off per
 * message, not a lookup, the read, the SHA-256 and the derivation. A row
 * that is not clean there, or a read no thread can take, is read again and
 * settled here (SqliteBlobs), as a file's would be.
 */
export class SplitBlobStore implements BlobStore {
  constructor(
    readonly inline: SqliteBlobs,
    readonly files: BlobStore,
    /** Largest blob (its bytes, not its container) stored in the database; 0: none. */
    readonly maxInline: number,
    private readonly rows: RowReads | null = null,
  ) {
    this.noRows = !inline.any();
  }

  put(data: Uint8Array, opts?: PutOptions): Promise<BlobRef> {
    return data.length <= this.maxInline && !opts?.asFile ? this.inline.put(data, opts) : this.files.put(data, opts);
  }

  /**
   * Where a read goes first. With reader threads, to the row on a thread:
   * that spares the event loop a lookup per message (over 100,000 messages,
   * 0.7 s of a first SEARCH), and a blob that is no row (ENOENT there) is a
   * file. A store with no rows and none to come (limit 0) reads files only.
   */
  private rowsFirst(): RowReads | null {
    if (!this.rows) return null;
    if (this.maxInline === 0 && this.noRows) return null;
    return this.rows;
  }

  /** Whether the table had no rows when the store opened (then a limit of 0 keeps it so). */
  private readonly noRows: boolean;

  /**
   * A blob read on a reader thread as a row first: 'file' when it is no row,
   * null when no thread could take it or it was not clean there (the caller
   * reads and settles it here), else the thread's answer.
   */
  private async rowRead(id: string, read: (r: BlobFileReader, source: string) => Promise<ReadResult>): Promise<ReadResult | 'file' | null> {
    const rows = this.rowsFirst();
    if (!rows) return this.inline.holds(id) ? null : 'file';
    try {
      const r = await read(rows.reader, rowSource(rows.dbFile, id));
      return 'raw' in r ? null : r;
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ENOENT') return 'file';
      return this.inline.holds(id) ? null : 'file';
    }
  }

  async get(id: string): Promise<Uint8Array> {
    const r = await this.rowRead(id, (reader, source) => reader.readChecked(source, 'decode'));
    if (r === 'file') return this.files.get(id);
    return r && 'clean' in r && r.clean ? r.clean : this.inline.get(id);
  }

  async getDerived(id: string, deriver: URL): Promise<DerivedRead> {
    const r = await this.rowRead(id, (reader, source) => reader.readDerived(source, deriver));
    if (r === 'file') return this.files.getDerived ? this.files.getDerived(id, deriver) : { data: await this.files.get(id) };
    if (r && 'derived' in r) return r;
    if (r && 'clean' in r && r.clean) return { data: r.clean };
    // Not clean, or no thread: verified and settled here, and the caller derives.
    return { data: await this.inline.get(id) };
  }

  keepWarm(derivers?: readonly URL[]): void {
    this.files.keepWarm?.(derivers);
  }

  async has(id: string): Promise<boolean> {
    return this.inline.holds(id) || this.files.has(id);
  }

  async check(id: string): Promise<BlobCheck> {
    const r = await this.rowRead(id, (reader, source) => reader.readChecked(source, 'verify'));
    if (r === 'file') return this.files.check(id);
    if (r && 'clean' in r) return { ok: true, corrections: [], damage: [] };
    return this.inline.check(id);
  }

  onIntegrity(fn: (e: IntegrityEvent) => void): void {
    this.inline.onIntegrity(fn);
    this.files.onIntegrity(fn);
  }

  async delete(id: string): Promise<void> {
    await this.inline.delete(id);
    await this.files.delete(id);
  }

  /** Both parts' ids in ascending order, each once (each part lists its own in order). */
  async *list(): AsyncIterable<string> {
    yield* mergeSorted(this.inline.list(), this.files.list());
  }

  async storedSize(id: string): Promise<number | null> {
    return (await this.inline.storedSize(id)) ?? this.files.storedSize(id);
  }

  readContainer(id: string): Promise<Uint8Array> {
    return this.inline.holds(id) ? this.inline.readContainer(id) : this.files.readContainer(id);
  }

  /** Restore: into the part that holds the blob already, else where a put of its size would go. */
  async writeContainer(id: string, container: Uint8Array): Promise<void> {
    if (this.inline.holds(id)) return this.inline.writeContainer(id, container);
    if (container.length <= containerSize(this.maxInline) && !(await this.files.has(id))) return this.inline.writeContainer(id, container);
    return this.files.writeContainer(id, container);
  }

  async collectGarbage(
    ids: readonly string[],
    writtenBefore: number,
    isUnused: (id: string) => Promise<boolean>,
    dryRun = false,
  ): Promise<{ deleted: string[]; bytes: number }> {
    const inDb = ids.filter((id) => this.inline.holds(id));
    const held = new Set(inDb);
    const a = await this.inline.collectGarbage(inDb, writtenBefore, isUnused, dryRun);
    const b = await this.files.collectGarbage(
      ids.filter((id) => !held.has(id)),
      writtenBefore,
      isUnused,
      dryRun,
    );
    return { deleted: [...a.deleted, ...b.deleted], bytes: a.bytes + b.bytes };
  }

  removeStaleTemp(now: number, olderThanMs?: number): Promise<{ files: number; bytes: number }> {
    return this.files.removeStaleTemp(now, olderThanMs);
  }

  /** The database part belongs to the metadata store, which closes it. */
  close(): Promise<void> {
    return this.files.close();
  }
}

/** Merges two ascending streams of ids into one, an id in both given once. */
export async function* mergeSorted(a: AsyncIterable<string>, b: AsyncIterable<string>): AsyncIterable<string> {
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  let x = await ia.next();
  let y = await ib.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value < y.value)) {
      yield x.value as string;
      x = await ia.next();
    } else if (x.done || y.value < x.value) {
      yield y.value;
      y = await ib.next();
    } else {
      yield x.value;
      x = await ia.next();
      y = await ib.next();
    }
  }
}
