/**
 * Scrape-time gauges on the metrics registry, read from StatusSource (cached,
 * so a scrape reads the store at most once per TTL). Ages in seconds; a scrub
 * or verified backup that never happened reads -1. If the store cannot be
 * read, the store-backed gauges are left out of that scrape (postern_up still
 * says the process answers) and the failure is logged.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../metrics/logger.js';
import type { RecipientState } from '../store/types.js';
import type { PresentStatus, StatusSource } from './status.js';

/** Waiting states always exported (as 0 when empty), so dashboards have a series to draw. */
const WAITING: readonly RecipientState[] = ['queued', 'leased', 'deferred', 'held', 'scanning'];
const PATHS = ['internal', 'outbound', 'inbound'] as const;
const QUANTILES = [
  ['0.5', 'p50Ms'],
  ['0.95', 'p95Ms'],
  ['0.99', 'p99Ms'],
] as const;

export function registerStatusGauges(registry: Registry, status: StatusSource, node: string, log: Logger): { remove(): void } {
  const names: string[] = [];
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: PresentStatus) => void) => {
    names.push(name);
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        let s: PresentStatus;
        try {
          s = await status.get();
        } catch (err) {
          log.warn({ err, metric: name }, 'metrics: could not read the store');
          return;
        }
        fill(this, s);
      },
    });
  };

  gauge('postern_queue_messages', 'Messages waiting in the queue, by the state of their recipients', ['state'], (g, s) => {
    for (const st of WAITING) g.set({ state: st }, s.queue.states.find((x) => x.state === st)?.messages ?? 0);
  });
  gauge('postern_queue_recipients', 'Recipients waiting in the queue, by state', ['state'], (g, s) => {
    for (const st of WAITING) g.set({ state: st }, s.queue.states.find((x) => x.state === st)?.recipients ?? 0);
  });
  gauge('postern_queue_oldest_age_seconds', 'Age of the oldest message still waiting in the queue (0 when empty)', [], (g, s) => g.set(s.queueOldestAgeSeconds));
  gauge('postern_last_scrub_age_seconds', 'Seconds since the last completed scrub (-1: none recorded)', [], (g, s) => g.set(s.lastScrubAgeSeconds ?? -1));
  gauge('postern_last_verified_backup_age_seconds', 'Seconds since the last verified backup (-1: none recorded)', [], (g, s) =>
    g.set(s.lastVerifiedBackupAgeSeconds ?? -1),
  );
  gauge('postern_delivery_time_seconds', 'Delivery time quantiles over the last hour, acceptance to mailbox or remote 250', ['path', 'quantile'], (g, s) => {
    // A summary without a figure (none delivered yet on that path) has no sample: never a NaN in the exposition.
    for (const d of s.deliveryTimes) for (const [q, k] of QUANTILES) if (Number.isFinite(d[k])) g.set({ path: d.direction, quantile: q }, d[k] / 1000);
  });
  gauge('postern_delivery_time_avg_seconds', 'Average delivery time over the last hour', ['path'], (g, s) => {
    for (const d of s.deliveryTimes) if (Number.isFinite(d.avgMs)) g.set({ path: d.direction }, d.avgMs / 1000);
  });
  gauge('postern_deliveries_last_hour', 'Deliveries over the last hour (the sample behind the delivery time gauges)', ['path'], (g, s) => {
    for (const p of PATHS) g.set({ path: p }, s.deliveryTimes.find((d) => d.direction === p)?.count ?? 0);
  });
  gauge('postern_damaged_blobs', 'Stored blobs damaged beyond repair or missing, still marked', [], (g, s) => g.set(s.damagedBlobs));
  gauge('postern_maintenance_active', '1 while a declared or scheduled maintenance window is open', [], (g, s) => g.set(s.maintenanceActive ? 1 : 0));

  names.push('postern_up');
  new Gauge({
    name: 'postern_up',
    help: '1: this node answers',
    labelNames: ['node'],
    registers: [registry],
    collect() {
      this.set({ node }, 1);
    },
  });

  return { remove: () => names.forEach((n) => registry.removeSingleMetric(n)) };
}
