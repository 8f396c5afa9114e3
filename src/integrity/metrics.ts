/**
 * Integrity figures from the event log, for `postern scrub --status`, the
 * report and the metrics exporter: how much damage was found, repaired and
 * left, and when the store and the backups were last verified end to end.
 */
import type { MetaStore, StoreEvent } from '../store/index.js';

export interface IntegrityMetrics {
  /** Bits repaired in place (each one a finding). */
  readonly corrected: number;
  /** Reads or scrubs that found a blob damaged beyond repair. */
  readonly uncorrectable: number;
  /** Reads or scrubs that found a referenced blob missing. */
  readonly missing: number;
  /** Backups that `backup verify` or `restore` refused. */
  readonly backupVerifyFailures: number;
  /** Blobs currently marked damaged, and the messages and queue entries that use them. */
  readonly damagedBlobs: number;
  readonly damagedMessages: number;
  readonly metadataDamageReports: number;
  /** The last scrub that read every blob, or null if none ever completed. */
  readonly lastFullScrub: { readonly at: number; readonly clean: boolean; readonly data: Record<string, unknown> } | null;
  /** The last backup whose every block was verified (while it was written, or by `backup verify`). */
  readonly lastVerifiedBackup: { readonly at: number; readonly kind: 'backup' | 'verify'; readonly location: string } | null;
}

export const EVENT = {
  corrected: 'integrity.corrected',
  uncorrectable: 'integrity.uncorrectable',
  missing: 'integrity.missing',
  metadataDamaged: 'integrity.metadata_damaged',
  orphans: 'integrity.orphans',
  scrubCompleted: 'integrity.scrub_completed',
  backupCompleted: 'integrity.backup_completed',
  backupFailed: 'integrity.backup_failed',
  backupVerified: 'integrity.backup_verified',
  backupVerifyFailed: 'integrity.backup_verify_failed',
  restoreCompleted: 'integrity.restore_completed',
} as const;

export async function integrityMetrics(meta: MetaStore): Promise<IntegrityMetrics> {
  const ev = meta.events;
  const [lastScrub] = await ev.list(EVENT.scrubCompleted, 1);
  // Only complete backups count as verified: one that had to leave damaged blobs out does not.
  const backups = (await ev.list(EVENT.backupCompleted, 50)).filter((e) => e.data.complete === true);
  const [verified] = await ev.list(EVENT.backupVerified, 1);
  const latest = newest(backups[0], verified);
  return {
    corrected: await ev.count(EVENT.corrected),
    uncorrectable: await ev.count(EVENT.uncorrectable),
    missing: await ev.count(EVENT.missing),
    backupVerifyFailures: await ev.count(EVENT.backupVerifyFailed),
    metadataDamageReports: await ev.count(EVENT.metadataDamaged),
    damagedBlobs: (await meta.integrity.listDamaged()).length,
    damagedMessages: (await meta.integrity.damagedMessages()).length,
    lastFullScrub: lastScrub ? { at: lastScrub.at, clean: lastScrub.data.clean === true, data: lastScrub.data } : null,
    lastVerifiedBackup: latest
      ? { at: latest.at, kind: latest.kind === EVENT.backupVerified ? 'verify' : 'backup', location: latest.subject }
      : null,
  };
}

function newest(a: StoreEvent | undefined, b: StoreEvent | undefined): StoreEvent | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.at > a.at ? b : a;
}
