import type { DeliveryDirection, DeliveryTimeRepo, DeliveryTimeSummary, Lease } from '../../types.js';
import type { Db } from './db.js';
import { deliveryTimeRow, percentileOffset } from '../rows.js';
import { prepared } from './statements.js';

const DIRECTIONS: readonly DeliveryDirection[] = ['inbound', 'internal', 'outbound'];

/** Inside the transaction that records the delivery. */
export function recordDeliveryTime(db: Db, lease: Lease, now: number): void {
  prepared(db, 'INSERT INTO delivery_times (queue_id, direction, received_at, delivered_at, ms) VALUES (?, ?, ?, ?, ?)').run(...deliveryTimeRow(lease, now));
}

export class SqliteDeliveryTimes implements DeliveryTimeRepo {
  constructor(private readonly db: Db) {}

  async summary(q: { since: number; until?: number }): Promise<DeliveryTimeSummary[]> {
    const until = q.until ?? Number.MAX_SAFE_INTEGER;
    const out: DeliveryTimeSummary[] = [];
    const where = 'direction = ? AND delivered_at >= ? AND delivered_at < ?';
    for (const direction of DIRECTIONS) {
      const agg = this.db.prepare(`SELECT COUNT(*) AS n, AVG(ms) AS avg, MAX(ms) AS max FROM delivery_times WHERE ${where}`).get(direction, q.since, until) as {
        n: number;
        avg: number | null;
        max: number | null;
      };
      if (agg.n === 0) continue;
      // One sort for the three percentiles (reports read long windows).
      const ranks = [0.5, 0.95, 0.99].map((x) => percentileOffset(agg.n, x));
      const rows = this.db
        .prepare(`SELECT rn, ms FROM (SELECT ms, ROW_NUMBER() OVER (ORDER BY ms) - 1 AS rn FROM delivery_times WHERE ${where}) WHERE rn IN (?, ?, ?)`)
        .all(direction, q.since, until, ...ranks) as { rn: number; ms: number }[];
      const p = (i: number) => Number(rows.find((r) => r.rn === ranks[i])?.ms ?? 0);
      out.push({ direction, count: agg.n, avgMs: Math.round(agg.avg ?? 0), p50Ms: p(0), p95Ms: p(1), p99Ms: p(2), maxMs: agg.max ?? 0 });
    }
    return out;
  }

  async prune(before: number): Promise<number> {
    return prepared(this.db, 'DELETE FROM delivery_times WHERE delivered_at < ?').run(before).changes;
  }
}
