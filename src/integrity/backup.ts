/**
 * Online backup. The metadata is copied first with SQLite's online backup
 * API (a consistent snapshot; the server keeps writing), then every blob the
 * snapshot references is read from the store, verified block by block, and
 * copied: a repairable blob is copied repaired (and repaired in the store
 * too), a damaged one is reported and left out, never copied on. So mail
 * acknowledged before the backup started is complete in it. With
 * `incremental`, blobs already in the backup folder whose digest matches its
 * manifest are kept instead of copied (blobs are content-addressed, so an id
 * never changes meaning). Every file is written temp + fsync + rename; the
 * manifest is written last, so a backup interrupted at any point leaves the
 * previous manifest and everything it lists intact.
 */
import { hostname as osHostname } from 'node:os';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { newToken } from '../core/ids.js';
import { isPosternError } from '../core/errors.js';
import { verifyBlob } from '../crypto/blockcodec.js';
import { inspectMetaFile } from '../store/backends/sqlite/index.js';
import type { Store } from '../store/index.js';
import { BackupError } from './errors.js';
import { ensureDir, fsyncFile, isMissingOrEmpty, sha256File, sha256Hex, syncDirs, writeSynced } from './files.js';
import { BLOB_DIR, BLOB_ID_RE, MANIFEST_FILE, META_SNAPSHOT_RE, blobRelPath, metaSnapshotName } from './layout.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, parseManifest, serializeManifest, type BlobEntry, type Manifest } from './manifest.js';
import { EVENT } from './metrics.js';
import { DEFAULT_CONCURRENCY, forEachLimited } from './pool.js';

export interface CopyProgress {
  blobs: number;
  blobsTotal: number;
  bytes: number;
  bytesTotal: number;
}

export interface BackupOptions {
  incremental?: boolean;
  clock?: Clock;
  /** Recorded in the manifest; defaults to the machine's host name. */
  sourceHost?: string;
  onProgress?: (p: CopyProgress) => void;
}

export interface BackupReport {
  readonly dest: string;
  readonly manifestSha256: string;
  readonly createdAt: number;
  readonly durationMs: number;
  readonly blobs: number;
  /** Blobs read from the store and written; the rest were already in the backup, verified. */
  readonly copied: number;
  readonly reused: number;
  /** Container bytes the backup holds, and those written by this run. */
  readonly bytes: number;
  readonly bytesCopied: number;
  readonly metadataBytes: number;
  /** Blobs that had single-bit damage: copied repaired, and repaired in the store. */
  readonly repaired: readonly string[];
  /** Referenced blobs left out because the store has them damaged or missing. */
  readonly unavailable: readonly { id: string; reason: string }[];
  readonly mbps: number;
  /** Every blob the metadata references is in the backup. */
  readonly complete: boolean;
}

export async function backup(store: Store, destIn: string, opts: BackupOptions = {}): Promise<BackupReport> {
  const clock = opts.clock ?? systemClock;
  const dest = path.resolve(destIn);
  const started = clock.now();
  const previous = await prepareDest(dest, opts.incremental === true);
  try {
    return await run(store, dest, previous, opts, clock, started);
  } catch (e) {
    await store.meta.events.record(EVENT.backupFailed, dest, { error: (e as Error).message }, clock.now()).catch(() => undefined);
    throw e;
  }
}

/** Checks the destination; for an incremental backup returns the old manifest's blob digests, else null. */
async function prepareDest(dest: string, incremental: boolean): Promise<Map<string, BlobEntry> | null> {
  const empty = await isMissingOrEmpty(dest).catch((e: Error) => {
    throw new BackupError('usage', `${dest}: ${e.message}`);
  });
  if (empty) {
    await fsp.mkdir(dest, { recursive: true, mode: 0o700 });
    return null;
  }
  const manifestFile = path.join(dest, MANIFEST_FILE);
  if (!incremental) {
    throw new BackupError('usage', `${dest} is not empty; back up into an empty folder, or pass --incremental to update the backup in it`);
  }
  let text: string;
  try {
    text = await fsp.readFile(manifestFile, 'utf8');
  } catch {
    throw new BackupError('usage', `${manifestFile} does not exist: ${dest} is not a postern backup, so it cannot be updated incrementally`);
  }
  const parsed = parseManifest(text);
  if (!parsed.ok) throw new BackupError('refused', `${manifestFile} ${parsed.reason}; make a full backup into an empty folder instead`);
  return new Map(parsed.manifest.blobs.map((b) => [b.id, b]));
}

async function run(store: Store, dest: string, previous: Map<string, BlobEntry> | null, opts: BackupOptions, clock: Clock, started: number): Promise<BackupReport> {
  const dirty = new Set<string>();
  const known = new Set<string>();

  // 1. The metadata snapshot, checked before anything depends on it.
  const tmp = path.join(dest, `.tmp-meta-${newToken(8)}.sqlite`);
  let metaFile: string;
  let metaDigest: { sha256: string; size: number };
  let info: ReturnType<typeof inspectMetaFile>;
  try {
    await store.meta.integrity.backupTo(tmp);
    await fsyncFile(tmp);
    info = inspectMetaFile(tmp);
    if (info.problems.length > 0) {
      throw new BackupError('refused', 'the metadata snapshot failed its integrity check; run `postern scrub --full`', info.problems.slice(0, 20));
    }
    metaDigest = await sha256File(tmp);
    metaFile = metaSnapshotName(metaDigest.sha256);
    await fsp.rename(tmp, path.join(dest, metaFile));
    dirty.add(dest);
  } finally {
    await fsp.rm(tmp, { force: true });
  }

  // 2. Every blob the snapshot references.
  const ids = info.referencedBlobs.filter((id) => BLOB_ID_RE.test(id));
  const unavailable = info.referencedBlobs.filter((id) => !BLOB_ID_RE.test(id)).map((id) => ({ id, reason: 'malformed blob id in the metadata' }));
  const sizes = new Map<string, number>();
  let bytesTotal = 0;
  for (const id of ids) {
    const n = (await store.blobs.storedSize(id)) ?? 0;
    sizes.set(id, n);
    bytesTotal += n;
  }
  const entries: BlobEntry[] = [];
  const repaired: string[] = [];
  let done = 0;
  let bytesDone = 0;
  let bytesCopied = 0;
  let reused = 0;
  const progress = () => opts.onProgress?.({ blobs: done, blobsTotal: ids.length, bytes: bytesDone, bytesTotal });
  progress();

  await forEachLimited(ids, DEFAULT_CONCURRENCY, async (id) => {
    const file = path.join(dest, blobRelPath(id));
    const kept = await keptCopy(file, previous?.get(id));
    if (kept) {
      entries.push(kept);
      reused++;
    } else {
      const got = await readVerified(store, id);
      if ('reason' in got) {
        unavailable.push({ id, reason: got.reason });
      } else {
        if (got.repaired) repaired.push(id);
        await ensureDir(path.dirname(file), dirty, known);
        await writeSynced(file, got.bytes, dirty);
        entries.push({ id, size: got.bytes.length, sha256: sha256Hex(got.bytes) });
        bytesCopied += got.bytes.length;
      }
    }
    done++;
    bytesDone += sizes.get(id) ?? 0;
    progress();
  });
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  entries.sort(byId);
  unavailable.sort(byId);
  repaired.sort();

  // 3. The manifest, after every file and folder it names is durable.
  await syncDirs(dirty);
  const createdAt = clock.now();
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    createdAt: new Date(createdAt).toISOString(),
    createdAtMs: createdAt,
    sourceHost: opts.sourceHost ?? osHostname(),
    incremental: previous !== null,
    metadata: { file: metaFile, size: metaDigest.size, sha256: metaDigest.sha256, schemaVersion: info.schemaVersion },
    blobs: entries,
    unavailable,
  };
  const { text, sha256 } = serializeManifest(manifest);
  await writeSynced(path.join(dest, MANIFEST_FILE), Buffer.from(text), dirty);
  await syncDirs(dirty);
  await prune(dest, manifest);

  for (const u of unavailable) await store.meta.integrity.markDamaged(u.id, u.reason, createdAt).catch(() => undefined);
  const durationMs = Math.max(0, clock.now() - started);
  const bytes = entries.reduce((s, e) => s + e.size, 0);
  const report: BackupReport = {
    dest,
    manifestSha256: sha256,
    createdAt,
    durationMs,
    blobs: entries.length,
    copied: entries.length - reused,
    reused,
    bytes,
    bytesCopied,
    metadataBytes: metaDigest.size,
    repaired,
    unavailable,
    mbps: durationMs > 0 ? (bytesCopied + metaDigest.size) / 1e6 / (durationMs / 1000) : 0,
    complete: unavailable.length === 0,
  };
  await store.meta.events
    .record(
      EVENT.backupCompleted,
      dest,
      {
        manifestSha256: sha256,
        incremental: manifest.incremental,
        blobs: report.blobs,
        copied: report.copied,
        reused,
        bytes,
        repaired: repaired.length,
        unavailable: unavailable.length,
        complete: report.complete,
        durationMs,
      },
      clock.now(),
    )
    .catch(() => undefined);
  return report;
}

/** An earlier run's copy is kept only if its bytes still match the old manifest's digest. */
async function keptCopy(file: string, entry: BlobEntry | undefined): Promise<BlobEntry | null> {
  if (!entry) return null;
  try {
    const bytes = await fsp.readFile(file);
    return bytes.length === entry.size && sha256Hex(bytes) === entry.sha256 ? entry : null;
  } catch {
    return null;
  }
}

type Verified = { bytes: Uint8Array; repaired: boolean } | { reason: string };

/** Reads a container from the store and verifies every block; only sound (or repaired) bytes are returned. */
async function readVerified(store: Store, id: string): Promise<Verified> {
  let raw: Uint8Array;
  try {
    raw = await store.blobs.readContainer(id);
  } catch (e) {
    if (isPosternError(e, 'NOT_FOUND')) return { reason: 'blob file is missing' };
    return { reason: `cannot be read: ${(e as Error).message}` };
  }
  const r = verifyBlob(raw);
  if (r.ok && r.sha256 === id) {
    if (r.corrections.length === 0 || !r.repaired) return { bytes: raw, repaired: false };
    // Repair the store's copy as well; the store reports the correction.
    await store.blobs.check(id).catch(() => undefined);
    return { bytes: r.repaired, repaired: true };
  }
  // Let the store verify it too, so the damage is reported and recorded like on any read.
  await store.blobs.check(id).catch(() => undefined);
  const why = r.damage.map((d) => (d.block >= 0 ? `block ${d.block}: ${d.reason}` : d.reason)).join('; ');
  return { reason: why || 'the container does not hold this blob' };
}

/** Removes what the new manifest no longer lists: older metadata snapshots, blobs, stale temp files. */
async function prune(dest: string, m: Manifest): Promise<void> {
  for (const f of await fsp.readdir(dest)) {
    if ((META_SNAPSHOT_RE.test(f) && f !== m.metadata.file) || f.startsWith('.tmp-')) await fsp.rm(path.join(dest, f), { force: true });
  }
  const keep = new Set(m.blobs.map((b) => b.id));
  const root = path.join(dest, BLOB_DIR);
  for (const a of await readdirOrEmpty(root)) {
    for (const b of await readdirOrEmpty(path.join(root, a))) {
      const dir = path.join(root, a, b);
      for (const f of await readdirOrEmpty(dir)) {
        if (!keep.has(f)) await fsp.rm(path.join(dir, f), { force: true });
      }
    }
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch {
    return [];
  }
}
