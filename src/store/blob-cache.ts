import { Buffer } from 'node:buffer';
import { WeightedLru } from '../core/weighted-lru.js';
import type { BlobCheck, BlobRef, BlobStore, IntegrityEvent, PutOptions } from './types.js';

/** A blob larger than this share of the cache is never kept: one big attachment must not empty it. */
const MAX_ENTRY_SHARE = 16;

/**
 * The bytes of recently written and recently read blobs, in memory, in front
 * of a BlobStore: the after-queue scan and local delivery read what SMTP has
 * just written, and IMAP clients fetch the same messages more than once
 * (a preview, then the message, then an attachment; several devices; a
 * re-sync). Blobs are content-addressed and never change, so an entry is
 * never stale; it holds bytes that were verified when read, or the very bytes
 * a put made durable. Bounded in bytes, least recently used first out.
 *
 * Callers get a copy (they may keep or change what they are given), and a
 * deleted or collected blob leaves the cache at once, so bytes shredded from
 * disk (a clear copy replaced by an encrypted one) do not outlive it here.
 * SEARCH's derived reads pass through: their point is to keep the bytes and
 * the work off the event loop, on the backend's reader threads.
 */
export class BlobCache {
  private readonly entries: WeightedLru<string, Uint8Array>;
  hits = 0;
  misses = 0;

  constructor(readonly limitBytes: number) {
    this.entries = new WeightedLru(limitBytes, (data) => data.length);
  }

  get bytes(): number {
    return this.entries.total;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A copy of the cached bytes, or null. */
  take(id: string): Uint8Array | null {
    const data = this.entries.use(id);
    if (!data) {
      this.misses++;
      return null;
    }
    this.hits++;
    return Buffer.from(data);
  }

  /** Keeps a copy of `data` as blob `id` (unless it is too large for the cache). */
  keep(id: string, data: Uint8Array): void {
    if (data.length > this.limitBytes / MAX_ENTRY_SHARE) return;
    this.entries.set(id, Uint8Array.prototype.slice.call(data));
  }

  drop(id: string): void {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** `inner` with a BlobCache of `limitBytes` in front of get(); `inner` itself when the limit is 0. */
export function cachingBlobs(inner: BlobStore, limitBytes: number): BlobStore {
  if (limitBytes <= 0) return inner;
  const cache = new BlobCache(limitBytes);
  const store: BlobStore & { readonly cache: BlobCache } = {
    cache,
    async put(data: Uint8Array, opts?: PutOptions): Promise<BlobRef> {
      const ref = await inner.put(data, opts);
      cache.keep(ref.id, data);
      return ref;
    },
    async get(id: string): Promise<Uint8Array> {
      const hit = cache.take(id);
      if (hit) return hit;
      const data = await inner.get(id);
      cache.keep(id, data);
      return data;
    },
    has: (id) => inner.has(id),
    check: (id): Promise<BlobCheck> => inner.check(id),
    onIntegrity: (fn: (e: IntegrityEvent) => void) => inner.onIntegrity(fn),
    async delete(id: string): Promise<void> {
      cache.drop(id);
      try {
        await inner.delete(id);
      } finally {
        // A get() that was reading it meanwhile may have put it back.
        cache.drop(id);
      }
    },
    list: () => inner.list(),
    storedSize: (id) => inner.storedSize(id),
    readContainer: (id) => inner.readContainer(id),
    async writeContainer(id: string, container: Uint8Array): Promise<void> {
      cache.drop(id);
      await inner.writeContainer(id, container);
    },
    async collectGarbage(ids, writtenBefore, isUnused, dryRun) {
      const out = await inner.collectGarbage(ids, writtenBefore, isUnused, dryRun);
      if (!dryRun) for (const id of out.deleted) cache.drop(id);
      return out;
    },
    removeStaleTemp: (now, olderThanMs) => inner.removeStaleTemp(now, olderThanMs),
    async close(): Promise<void> {
      cache.clear();
      await inner.close();
    },
  };
  if (inner.getDerived) store.getDerived = inner.getDerived.bind(inner);
  if (inner.keepWarm) store.keepWarm = inner.keepWarm.bind(inner);
  return store;
}
