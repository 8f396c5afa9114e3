/**
 * Integrity figures: repaired and unrepairable storage damage, how long ago
 * the store was last scrubbed and a backup last verified, forged mail,
 * malware and failed signatures. Reads only the events table.
 */
import type { EventRepo, EventTally } from '../../store/types.js';
import { counts, figure, sum, tallyBoth, totalFigure } from './figure.js';
import type { Integrity, Span } from './types.js';

const failed = (rows: readonly EventTally[], field: string): number => sum(rows.filter((r) => r.labels[field] === 'fail'));

/** `corrected` comes from the per-bucket series (one pass over those events). */
export async function integrity(events: EventRepo, w: Span, p: Span, corrected: readonly EventTally[]): Promise<Integrity> {
  const [prevCorrected, uncorrectable, missing, verifyFailures, [spoof, prevSpoof], [malware, prevMalware], [auth, prevAuth], scrub, backup] = await Promise.all([
    events.tally('integrity.corrected', p.since, [], p.until),
    totalFigure(events, 'integrity.uncorrectable', w, p),
    totalFigure(events, 'integrity.missing', w, p),
    totalFigure(events, 'integrity.backup_verify_failed', w, p),
    tallyBoth(events, 'spoof.detected', ['detector', 'origin'], w, p),
    tallyBoth(events, 'malware.detected', ['engine', 'direction'], w, p),
    tallyBoth(events, 'auth.result', ['dkim', 'dmarc'], w, p),
    events.latest('integrity.scrub_completed', w.until),
    events.latest('integrity.backup_verified', w.until),
  ]);
  const age = (e: { at: number } | null) => ({ at: e?.at ?? null, ageMs: e ? w.until - e.at : null });
  return {
    corrected: figure(sum(corrected), sum(prevCorrected)),
    correctedByArea: counts(corrected),
    uncorrectable: figure(uncorrectable.value! + missing.value!, uncorrectable.previous! + missing.previous!),
    lastScrub: age(scrub),
    lastVerifiedBackup: age(backup),
    backupVerifyFailures: verifyFailures,
    spoofed: { total: figure(sum(spoof), sum(prevSpoof)), byDetector: counts(spoof) },
    malware: { total: figure(sum(malware), sum(prevMalware)), byEngine: counts(malware) },
    dkimFailed: figure(failed(auth, 'dkim'), failed(prevAuth, 'dkim')),
    dmarcFailed: figure(failed(auth, 'dmarc'), failed(prevAuth, 'dmarc')),
  };
}
