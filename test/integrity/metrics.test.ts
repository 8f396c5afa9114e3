import { describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { integrityMetrics, scrub } from '../../src/integrity/index.js';
import { blobFile, fillStore, flipBit, openTestStore, seededRng, testSeed } from './helpers.js';

describe('integrity metrics', () => {
  it('counts findings and reports the last full scrub and verified backup from the event log', async () => {
    const { store, dir } = await openTestStore();
    try {
      const empty = await integrityMetrics(store.meta);
      expect(empty).toMatchObject({ corrected: 0, uncorrectable: 0, missing: 0, backupVerifyFailures: 0, lastFullScrub: null, lastVerifiedBackup: null });

      const msgs = await fillStore(store, 6, seededRng(testSeed()));
      flipBit(blobFile(dir, msgs[0]!.blobId), 8 * 300);
      flipBit(blobFile(dir, msgs[1]!.blobId), 8 * 300);
      flipBit(blobFile(dir, msgs[1]!.blobId), 8 * 300 + 9);
      rmSync(blobFile(dir, msgs[2]!.blobId));
      const r = await scrub(store);
      await new Promise((res) => setImmediate(res));

      const ev = store.meta.events;
      await ev.record('integrity.backup_completed', '/b/1', { complete: true }, 1000);
      await ev.record('integrity.backup_completed', '/b/2', { complete: false }, 3000);
      await ev.record('integrity.backup_verify_failed', '/b/2', {}, 3100);
      await ev.record('integrity.backup_verified', '/b/1', {}, 2000);

      const m = await integrityMetrics(store.meta);
      expect(m.corrected).toBe(1);
      expect(m.uncorrectable).toBe(1);
      expect(m.missing).toBe(1);
      expect(m.backupVerifyFailures).toBe(1);
      expect(m.damagedBlobs).toBe(2);
      expect(m.damagedMessages).toBe(2);
      expect(m.lastFullScrub).toMatchObject({ clean: false, data: { blobs: 5, missing: 1, uncorrectable: 1 } });
      expect(m.lastFullScrub!.at).toBe(r.startedAt + r.durationMs);
      // The incomplete backup at 3000 does not count; the verify at 2000 is the latest good one.
      expect(m.lastVerifiedBackup).toEqual({ at: 2000, kind: 'verify', location: '/b/1' });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
