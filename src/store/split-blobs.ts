import type { BlobCheck, BlobRef, BlobStore, DerivedRead, IntegrityEvent, PutOptions } from './types.js';
import { containerSize } from '../crypto/blockcodec.js';
import type { SqliteBlobs } from './backends/sqlite/blobs.js';

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
 * Where a blob lives is decided by its size when it is put; reads look in
 * the database first (one primary-key lookup) and then in the files, so a
 * blob stays readable wherever an earlier `maxInline` put it, and 0 stores
 * every new blob as a file. Both parts hold the same checksummed container
 * and report integrity findings alike.
 */
export class SplitBlobStore implements BlobStore {
  constructor(
    readonly inline: SqliteBlobs,
    readonly files: BlobStore,
    /** Largest blob (its bytes, not its container) stored in the database; 0: none. */
    readonly maxInline: number,
  ) {}

  put(data: Uint8Array, opts?: PutOptions): Promise<BlobRef> {
    return data.length <= this.maxInline ? this.inline.put(data, opts) : this.files.put(data, opts);
  }

  get(id: string): Promise<Uint8Array> {
    return this.inline.holds(id) ? this.inline.get(id) : this.files.get(id);
  }

  async getDerived(id: string, deriver: URL): Promise<DerivedRead> {
    // A small blob is verified here and derived by the caller: no hand-off to a thread is cheaper.
    if (this.inline.holds(id)) return { data: await this.inline.get(id) };
    return this.files.getDerived ? this.files.getDerived(id, deriver) : { data: await this.files.get(id) };
  }

  keepWarm(derivers?: readonly URL[]): void {
    this.files.keepWarm?.(derivers);
  }

  async has(id: string): Promise<boolean> {
    return this.inline.holds(id) || this.files.has(id);
  }

  check(id: string): Promise<BlobCheck> {
    return this.inline.holds(id) ? this.inline.check(id) : this.files.check(id);
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
