/**
 * Restore into an empty data folder. Everything is verified first (the same
 * checks as `backup verify`); only a backup that passes is written, and each
 * file is checked again against the manifest as it is copied, in case the
 * backup changed in between. Blobs the manifest lists as unavailable (already
 * damaged when the backup was made) are marked damaged in the restored store.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { openStore, writeFileDurable } from '../store/index.js';
import { BackupError } from './errors.js';
import { isMissingOrEmpty, sha256Hex } from './files.js';
import { META_FILE, blobRelPath } from './layout.js';
import { EVENT } from './metrics.js';
import { recordAudit } from './audit-log.js';
import { verifyBackup, type VerifyReport } from './verify.js';
import { DEFAULT_CONCURRENCY, forEachLimited } from './pool.js';
import type { CopyProgress } from './backup.js';

export interface RestoreOptions {
  expectDigest?: string;
  clock?: Clock;
  onVerifyProgress?: (p: CopyProgress) => void;
  onCopyProgress?: (p: CopyProgress) => void;
  /** Who restores: written to the restored store's audit log. */
  actor?: string;
}

export interface RestoreReport {
  readonly dataDir: string;
  readonly verify: VerifyReport;
  readonly blobs: number;
  readonly bytes: number;
  readonly unavailable: readonly { id: string; reason: string }[];
}

export async function restore(srcIn: string, dataDirIn: string, opts: RestoreOptions = {}): Promise<RestoreReport> {
  const clock = opts.clock ?? systemClock;
  const src = path.resolve(srcIn);
  const dataDir = path.resolve(dataDirIn);
  const existed = await fsp.stat(dataDir).then(
    () => true,
    () => false,
  );
  if (!(await isMissingOrEmpty(dataDir).catch(() => false))) {
    throw new BackupError('usage', `${dataDir} is not empty; restore only into an empty or new folder`);
  }

  const verify = await verifyBackup(src, { expectDigest: opts.expectDigest, onProgress: opts.onVerifyProgress });
  if (!verify.ok || !verify.manifest) throw new BackupError('refused', `backup ${src} failed verification; nothing was restored`, verify.problems);
  const m = verify.manifest;

  try {
    await fsp.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const meta = await fsp.readFile(path.join(src, m.metadata.file));
    if (sha256Hex(meta) !== m.metadata.sha256) throw changed(path.join(src, m.metadata.file));
    await writeFileDurable(path.join(dataDir, META_FILE), meta, 0o600);

    const store = await openStore({ backend: 'sqlite', dataDir });
    try {
      const bytesTotal = m.blobs.reduce((s, b) => s + b.size, 0);
      let bytes = 0;
      let done = 0;
      const progress = () => opts.onCopyProgress?.({ blobs: done, blobsTotal: m.blobs.length, bytes, bytesTotal });
      progress();
      let failed: unknown = null;
      await forEachLimited(
        m.blobs,
        DEFAULT_CONCURRENCY,
        async (b) => {
          try {
            const file = path.join(src, blobRelPath(b.id));
            const bytesOf = await fsp.readFile(file);
            if (bytesOf.length !== b.size || sha256Hex(bytesOf) !== b.sha256) throw changed(file);
            await store.blobs.writeContainer(b.id, bytesOf);
          } catch (e) {
            failed ??= e;
          }
          done++;
          bytes += b.size;
          progress();
        },
        () => failed !== null,
      );
      if (failed !== null) throw failed;
      const now = clock.now();
      for (const u of m.unavailable) await store.meta.integrity.markDamaged(u.id, `unavailable in backup: ${u.reason}`, now);
      await store.meta.events.record(EVENT.restoreCompleted, src, { manifestSha256: verify.manifestSha256, blobs: m.blobs.length, unavailable: m.unavailable.length, backupCreatedAt: m.createdAt }, now);
      // The restored log goes on from the backup's last record: the restore itself is its next entry.
      await recordAudit(store, { actor: opts.actor ?? 'unknown', action: 'backup.restore', subject: path.resolve(src), data: { manifestSha256: verify.manifestSha256, backupCreatedAt: m.createdAt, sourceHost: m.sourceHost } }, now);
    } finally {
      await store.close();
    }
  } catch (e) {
    // A half-restored folder must not be mistaken for a store: leave it as it was found.
    if (existed) {
      for (const f of await fsp.readdir(dataDir).catch(() => [])) await fsp.rm(path.join(dataDir, f), { recursive: true, force: true });
    } else {
      await fsp.rm(dataDir, { recursive: true, force: true });
    }
    throw e;
  }
  return { dataDir, verify, blobs: m.blobs.length, bytes: verify.bytes, unavailable: m.unavailable };
}

function changed(file: string): BackupError {
  return new BackupError('refused', `${file} changed after it was verified; nothing was restored`);
}
