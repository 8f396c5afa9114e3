/**
 * What the metrics gauges and /api/v1/status report about the present: the
 * queue, the ages of the last scrub and verified backup, delivery times of
 * the last hour and whether maintenance is on. Read from the store at most
 * once per `ttlMs` (default 5 s), however many scrapes arrive: concurrent
 * callers share one read, so a scrape storm cannot hammer the store.
 */
import type { Clock } from '../core/clock.js';
import type { DeliveryTimeSummary, MetaStore, QueueStats } from '../store/types.js';
import { inMaintenance, NO_SCHEDULE, type MaintenanceSchedule } from '../store/maintenance.js';

export interface PresentStatus {
  /** Unix ms of the read. */
  readonly at: number;
  readonly queue: QueueStats;
  /** Seconds since the oldest waiting message was received; 0 when nothing waits. */
  readonly queueOldestAgeSeconds: number;
  /** Seconds since the newest integrity.scrub_completed; null when there was none. */
  readonly lastScrubAgeSeconds: number | null;
  /**
   * Seconds since the newest verified backup: `backup verify`, or a complete
   * backup (verified while written), as in integrity/metrics.ts; null when none.
   */
  readonly lastVerifiedBackupAgeSeconds: number | null;
  /** Over the last hour, per direction with at least one delivery. */
  readonly deliveryTimes: readonly DeliveryTimeSummary[];
  readonly maintenanceActive: boolean;
  /** Blobs marked damaged beyond repair or missing, not yet repaired or removed. */
  readonly damagedBlobs: number;
}

export type StatusStore = Pick<MetaStore, 'queue' | 'events' | 'deliveryTimes' | 'integrity'>;

const HOUR = 3_600_000;

export class StatusSource {
  private cached: { at: number; value: Promise<PresentStatus> } | null = null;

  constructor(
    private readonly meta: StatusStore,
    private readonly clock: Clock,
    private readonly opts: { ttlMs?: number; schedule?: MaintenanceSchedule } = {},
  ) {}

  /** The status, read again only when the last read is older than the TTL (a failed read is retried at once). */
  get(): Promise<PresentStatus> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at < (this.opts.ttlMs ?? 5000)) return this.cached.value;
    const value = this.read(now);
    const entry = { at: now, value };
    this.cached = entry;
    value.catch(() => {
      if (this.cached === entry) this.cached = null;
    });
    return value;
  }

  private async read(now: number): Promise<PresentStatus> {
    const age = (at: number | undefined): number | null => (at === undefined ? null : Math.max(0, (now - at) / 1000));
    const newestAt = async (kind: string) => (await this.meta.events.list(kind, 1))[0]?.at;
    const verifiedBackupAt = async () => {
      const complete = (await this.meta.events.list('integrity.backup_completed', 50)).find((e) => e.data.complete === true);
      const verified = await newestAt('integrity.backup_verified');
      const ats = [complete?.at, verified].filter((a): a is number => a !== undefined);
      return ats.length ? Math.max(...ats) : undefined;
    };
    const [queue, scrubAt, backupAt, deliveryTimes, maintenanceActive, damaged] = await Promise.all([
      this.meta.queue.stats(),
      newestAt('integrity.scrub_completed'),
      verifiedBackupAt(),
      this.meta.deliveryTimes.summary({ since: now - HOUR, until: now + 1 }),
      inMaintenance(this.meta.events, now, now, this.opts.schedule ?? NO_SCHEDULE),
      this.meta.integrity.listDamaged(),
    ]);
    const lastScrubAgeSeconds = age(scrubAt);
    const lastVerifiedBackupAgeSeconds = age(backupAt);
    return {
      at: now,
      queue,
      queueOldestAgeSeconds: queue.oldestReceivedAt === null ? 0 : Math.max(0, (now - queue.oldestReceivedAt) / 1000),
      lastScrubAgeSeconds,
      lastVerifiedBackupAgeSeconds,
      deliveryTimes,
      maintenanceActive,
      damagedBlobs: damaged.length,
    };
  }
}
