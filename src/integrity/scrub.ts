/**
 * The scrubber: reads and verifies every block of every blob (repairing
 * single flipped bits through the blob store, which writes the repair back
 * and reports it), checks the metadata database, finds blobs that messages or
 * queue entries reference but that are missing, and blob files nothing
 * references (orphans: reported, never deleted). Damaged and missing blobs
 * are marked in the metadata so every message using them counts as damaged.
 * Temp files that failed or crashed writes left in the blob store (older than
 * the store's grace period) are removed first.
 */
import { isPosternError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { MetadataCheckMode, Store } from '../store/index.js';
import { rateLimiter, type Sleep } from './bucket.js';
import { DEFAULT_CONCURRENCY, forEachLimited } from './pool.js';

export interface ScrubProgress {
  blobs: number;
  blobsTotal: number;
  bytes: number;
  bytesTotal: number;
}

export interface ScrubOptions {
  /** Metadata check: 'quick' (the default: quick_check and integrity_check of the vital tables) or 'full' (integrity_check). */
  metadata?: MetadataCheckMode;
  /** Read rate limit in MB/s (10^6 bytes); undefined or 0 reads as fast as the disk allows. */
  rateMBps?: number;
  clock?: Clock;
  sleep?: Sleep;
  /** Stops the scrub between blobs; the report then has aborted = true and no completion event is recorded. */
  signal?: AbortSignal;
  /** Blobs read at once (default 4: the disk reads while the CPU verifies); 1 reads one after another. */
  concurrency?: number;
  onProgress?: (p: ScrubProgress) => void;
}

export interface ScrubReport {
  readonly startedAt: number;
  readonly durationMs: number;
  readonly metadataMode: MetadataCheckMode;
  /** Blobs read and verified. */
  readonly blobs: number;
  /** Bytes read (containers). */
  readonly bytes: number;
  /** Blobs that had damage and were repaired in place. */
  readonly corrected: number;
  readonly correctedBits: number;
  readonly uncorrectable: readonly { id: string; detail: string }[];
  /** Blobs referenced by the metadata whose file does not exist. */
  readonly missing: readonly string[];
  /** Blob files that no message and no queue entry references. */
  readonly orphans: readonly string[];
  /** Temp files of failed writes removed from the blob store. */
  readonly staleTemp: { readonly files: number; readonly bytes: number };
  readonly damagedMessages: number;
  readonly metadata: { readonly ok: boolean; readonly problems: readonly string[] };
  readonly mbps: number;
  readonly aborted: boolean;
  /** Nothing is left damaged: every finding was repaired and the metadata is sound. */
  readonly clean: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] };

export async function scrub(store: Store, opts: ScrubOptions = {}): Promise<ScrubReport> {
  const clock = opts.clock ?? systemClock;
  const mode = opts.metadata ?? 'quick';
  const bucket = rateLimiter(opts.rateMBps, clock, opts.sleep);
  const { meta, blobs } = store;
  const startedAt = clock.now();
  const r: Mutable<ScrubReport> = {
    startedAt,
    durationMs: 0,
    metadataMode: mode,
    blobs: 0,
    bytes: 0,
    corrected: 0,
    correctedBits: 0,
    uncorrectable: [],
    missing: [],
    orphans: [],
    staleTemp: { files: 0, bytes: 0 },
    damagedMessages: 0,
    metadata: { ok: true, problems: [] },
    mbps: 0,
    aborted: false,
    clean: true,
  };

  r.staleTemp = (await orNull(() => blobs.removeStaleTemp(startedAt))) ?? r.staleTemp;
  const problems = await meta.integrity.checkMetadata(mode);
  r.metadata = { ok: problems.length === 0, problems };
  // With damaged metadata the references may be unreadable: blobs are still verified.
  const referenced = await orNull(() => meta.integrity.referencedBlobs());
  const marked = new Set((await orNull(() => meta.integrity.listDamaged()))?.map((d) => d.blobId) ?? []);

  const ids: string[] = [];
  for await (const id of blobs.list()) ids.push(id);
  const sizes = new Map<string, number>();
  let bytesTotal = 0;
  for (const id of ids) {
    const n = (await blobs.storedSize(id)) ?? 0;
    sizes.set(id, n);
    bytesTotal += n;
  }
  const progress = () => opts.onProgress?.({ blobs: r.blobs, blobsTotal: ids.length, bytes: r.bytes, bytesTotal });
  progress();

  const refSet = referenced ? new Set(referenced) : null;
  const gone: string[] = [];
  const checkOne = async (id: string, size: number): Promise<void> => {
    try {
      const c = await blobs.check(id);
      if (c.ok) {
        if (c.corrections.length > 0) {
          r.corrected++;
          r.correctedBits += c.corrections.length;
        }
        if (marked.has(id)) await orNull(() => meta.integrity.clearDamaged(id));
      } else {
        const detail = c.damage.map((d) => (d.block >= 0 ? `block ${d.block}: ${d.reason}` : d.reason)).join('; ') || 'does not verify';
        r.uncorrectable.push({ id, detail });
      }
    } catch (e) {
      if (isPosternError(e, 'NOT_FOUND')) gone.push(id); // deleted while the scrub ran
      else {
        const detail = `cannot be read: ${(e as Error).message}`;
        r.uncorrectable.push({ id, detail });
        // The blob store reports only what it decoded; an I/O error is recorded here.
        await orNull(() => meta.events.record('integrity.uncorrectable', `blob:${id}`, { detail }, clock.now()));
      }
    }
    r.blobs++;
    r.bytes += size;
    progress();
  };

  await forEachLimited(
    ids,
    opts.concurrency ?? DEFAULT_CONCURRENCY,
    async (id) => {
      const size = sizes.get(id) ?? 0;
      if (bucket) await bucket.take(size);
      await checkOne(id, size);
    },
    () => (r.aborted ||= opts.signal?.aborted === true),
  );
  r.uncorrectable.sort((x, y) => (x.id < y.id ? -1 : 1));

  if (refSet && !r.aborted) {
    const listed = new Set(ids);
    for (const id of [...refSet].filter((x) => !listed.has(x)).concat(gone)) {
      if (await stillMissing(store, id)) r.missing.push(id);
    }
    for (const id of ids) {
      // A blob stored after the references were read may be mail in flight: ask again.
      if (!refSet.has(id) && !gone.includes(id) && (await meta.mailboxes.blobReferences(id).catch(() => 1)) === 0) r.orphans.push(id);
    }
  }

  const now = clock.now();
  for (const u of r.uncorrectable) await orNull(() => meta.integrity.markDamaged(u.id, u.detail, now));
  for (const id of r.missing) await orNull(() => meta.integrity.markDamaged(id, 'blob file is missing', now));
  r.damagedMessages = (await orNull(() => meta.integrity.damagedMessages()))?.length ?? 0;

  r.durationMs = Math.max(0, now - startedAt);
  r.mbps = r.durationMs > 0 ? r.bytes / 1e6 / (r.durationMs / 1000) : 0;
  r.clean = r.metadata.ok && r.uncorrectable.length === 0 && r.missing.length === 0;
  await recordScrub(store, r, now);
  return r;
}

/** A referenced blob is missing if it is still absent and still referenced (not deleted with its messages meanwhile). */
async function stillMissing(store: Store, id: string): Promise<boolean> {
  if (await store.blobs.has(id)) return false;
  if ((await store.meta.mailboxes.blobReferences(id).catch(() => 1)) === 0) return false;
  // Reading it makes the blob store report the finding like any other read would.
  await store.blobs.check(id).catch(() => undefined);
  return true;
}

async function recordScrub(store: Store, r: ScrubReport, now: number): Promise<void> {
  const ev = store.meta.events;
  if (!r.metadata.ok) {
    await orNull(() => ev.record('integrity.metadata_damaged', 'metadata', { mode: r.metadataMode, problems: r.metadata.problems.slice(0, 20) }, now));
  }
  if (r.orphans.length > 0) {
    await orNull(() => ev.record('integrity.orphans', 'blobs', { count: r.orphans.length, sample: r.orphans.slice(0, 20) }, now));
  }
  if (r.aborted) return;
  await orNull(() =>
    ev.record(
      'integrity.scrub_completed',
      'store',
      {
        metadataMode: r.metadataMode,
        startedAt: r.startedAt,
        durationMs: r.durationMs,
        blobs: r.blobs,
        bytes: r.bytes,
        corrected: r.corrected,
        correctedBits: r.correctedBits,
        uncorrectable: r.uncorrectable.length,
        missing: r.missing.length,
        orphans: r.orphans.length,
        staleTempFiles: r.staleTemp.files,
        damagedMessages: r.damagedMessages,
        metadataOk: r.metadata.ok,
        clean: r.clean,
        mbps: Math.round(r.mbps * 10) / 10,
      },
      now,
    ),
  );
}

/** Metadata calls on a damaged database may throw; the scrub goes on and reports what it can. */
async function orNull<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch {
    return null;
  }
}
