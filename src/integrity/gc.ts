/**
 * Garbage collection: what expunged and delivered mail leaves behind.
 *  - blobs no message and no queue entry references (the only tables that
 *    hold blob ids as references; the header cache and the damage marks are
 *    derived from blobs and go with them), once they are older than a grace
 *    period: a blob written by an APPEND or enqueue whose row has not been
 *    committed yet is young, and storing identical bytes again makes an old
 *    blob young (BlobStore.collectGarbage). Each blob is checked again right
 *    before it is deleted, and the metadata is never changed before the
 *    bytes, so a crash leaves at worst an unreferenced blob for the next run;
 *  - header cache entries of blobs no message uses any more;
 *  - events older than the retention, except the newest of each kind;
 *  - temp files of failed blob writes.
 */
import { systemClock, type Clock } from '../core/clock.js';
import type { Store } from '../store/index.js';

export interface GcOptions {
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean;
  /** Blobs written (or stored again) less than this long ago are kept (default 1 hour). */
  graceMs?: number;
  /** Events older than this many days are removed (default 90; 0 keeps every event). */
  eventsRetentionDays?: number;
  clock?: Clock;
  /** Stops between two steps or pages; the report then has aborted = true. */
  signal?: AbortSignal;
}

export interface GcReport {
  readonly startedAt: number;
  readonly durationMs: number;
  readonly dryRun: boolean;
  /** Blobs in the store, and those no message or queue entry references. */
  readonly blobsTotal: number;
  readonly unreferenced: number;
  /** Unreferenced blobs removed, and the bytes they took in storage. */
  readonly blobsRemoved: number;
  readonly bytesRemoved: number;
  /** Unreferenced blobs kept because they are younger than the grace period (or became referenced). */
  readonly blobsKept: number;
  readonly headerCacheRemoved: number;
  readonly eventsRemoved: number;
  readonly staleTemp: { readonly files: number; readonly bytes: number };
  readonly aborted: boolean;
}

export const GC_GRACE_MS = 3_600_000;
export const DEFAULT_EVENTS_RETENTION_DAYS = 90;
/** How long the sieve role remembers a vacation reply. */
export const VACATION_MEMORY_DAYS = 365;
const DAY = 86_400_000;
/** Blobs handed to the blob store per call, and events deleted per statement: no call holds the database long. */
const PAGE = 1000;
const EVENTS_PAGE = 1000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export async function gc(store: Store, opts: GcOptions = {}): Promise<GcReport> {
  const clock = opts.clock ?? systemClock;
  const dryRun = opts.dryRun === true;
  const { meta, blobs } = store;
  const startedAt = clock.now();
  const r: Mutable<GcReport> = {
    startedAt,
    durationMs: 0,
    dryRun,
    blobsTotal: 0,
    unreferenced: 0,
    blobsRemoved: 0,
    bytesRemoved: 0,
    blobsKept: 0,
    headerCacheRemoved: 0,
    eventsRemoved: 0,
    staleTemp: { files: 0, bytes: 0 },
    aborted: false,
  };
  const stop = () => (r.aborted ||= opts.signal?.aborted === true);

  if (!dryRun) r.staleTemp = await blobs.removeStaleTemp(startedAt);

  // References first, then the blob list: a blob stored after the references were read is young and kept.
  const referenced = new Set(await meta.integrity.referencedBlobs());
  const candidates: string[] = [];
  for await (const id of blobs.list()) {
    r.blobsTotal++;
    if (!referenced.has(id)) candidates.push(id);
  }
  r.unreferenced = candidates.length;
  const writtenBefore = startedAt - (opts.graceMs ?? GC_GRACE_MS);
  const isUnused = async (id: string) => (await meta.mailboxes.blobReferences(id)) === 0;
  const marked = new Set((await meta.integrity.listDamaged()).map((d) => d.blobId));
  for (let i = 0; i < candidates.length && !stop(); i += PAGE) {
    const page = candidates.slice(i, i + PAGE);
    const done = await blobs.collectGarbage(page, writtenBefore, isUnused, dryRun);
    r.blobsRemoved += done.deleted.length;
    r.bytesRemoved += done.bytes;
    // A damage mark of a blob that is gone marks nothing any more.
    if (!dryRun) for (const id of done.deleted) if (marked.has(id)) await meta.integrity.clearDamaged(id);
  }
  r.blobsKept = r.unreferenced - r.blobsRemoved;
  // Marks of blobs that are gone and that nothing references any more (deleted earlier, or missing): nothing left to mark.
  if (!dryRun && !stop()) {
    for (const id of marked) {
      if (!(await blobs.has(id)) && (await isUnused(id))) await meta.integrity.clearDamaged(id);
    }
  }

  if (!stop()) r.headerCacheRemoved = await meta.mailboxes.pruneHeaderCache(dryRun);

  const days = opts.eventsRetentionDays ?? DEFAULT_EVENTS_RETENTION_DAYS;
  if (days > 0 && !stop()) {
    const before = startedAt - days * DAY;
    if (dryRun) r.eventsRemoved = await meta.events.prune(before, EVENTS_PAGE, true);
    else {
      for (;;) {
        const n = await meta.events.prune(before, EVENTS_PAGE);
        r.eventsRemoved += n;
        if (n < EVENTS_PAGE || stop()) break;
        // Let other clients' work run between two pages.
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Delivery times are kept as long as events.
      if (!stop()) await meta.deliveryTimes.prune(before);
    }
  }

  // Vacation replies remembered for a year cover any period a Sieve script may ask for (RFC 5230 :days).
  if (!dryRun && !stop()) await meta.sieve.pruneVacation(startedAt - VACATION_MEMORY_DAYS * DAY);

  const now = clock.now();
  r.durationMs = Math.max(0, now - startedAt);
  if (!dryRun) {
    await meta.events.record(
      'store.gc',
      'store',
      {
        durationMs: r.durationMs,
        blobsTotal: r.blobsTotal,
        blobsRemoved: r.blobsRemoved,
        bytesRemoved: r.bytesRemoved,
        blobsKept: r.blobsKept,
        headerCacheRemoved: r.headerCacheRemoved,
        eventsRemoved: r.eventsRemoved,
        staleTempFiles: r.staleTemp.files,
        aborted: r.aborted,
      },
      now,
    );
  }
  return r;
}
