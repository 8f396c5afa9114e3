import type { DeliveryDirection, DeliveryTimeRepo, DeliveryTimeSummary, Lease } from '../../types.js';
import type { Pool, Queryable } from './db.js';
import { deliveryTimeRow, percentileOffset } from '../rows.js';

const DIRECTIONS: readonly DeliveryDirection[] = ['inbound', 'internal', 'outbound'];

/** Inside the transaction that records the delivery (or right after a single-statement one). */
export async function recordDeliveryTime(c: Queryable, lease: Lease, now: number): Promise<void> {
  await c.query('INSERT INTO delivery_times (queue_id, direction, received_at, delivered_at, ms) VALUES ($1, $2, $3, $4, $5)', deliveryTimeRow(lease, now));
}

export class PgDeliveryTimes implements DeliveryTimeRepo {
  constructor(private readonly pool: Pool) {}

  async summary(q: { since: number; until?: number }): Promise<DeliveryTimeSummary[]> {
    const until = q.until ?? Number.MAX_SAFE_INTEGER;
    const out: DeliveryTimeSummary[] = [];
    const where = 'direction = $1 AND delivered_at >= $2 AND delivered_at < $3';
    for (const direction of DIRECTIONS) {
      const agg = (await this.pool.query<{ n: number; avg: number | null; max: number | null }>(
        `SELECT count(*) AS n, avg(ms) AS avg, max(ms) AS max FROM delivery_times WHERE ${where}`,
        [direction, q.since, until],
      )).rows[0]!;
      if (Number(agg.n) === 0) continue;
      const n = Number(agg.n);
      const p = async (x: number) =>
        Number((await this.pool.query<{ ms: number }>(`SELECT ms FROM delivery_times WHERE ${where} ORDER BY ms LIMIT 1 OFFSET $4`, [direction, q.since, until, percentileOffset(n, x)])).rows[0]?.ms ?? 0);
      out.push({ direction, count: n, avgMs: Math.round(Number(agg.avg ?? 0)), p50Ms: await p(0.5), p95Ms: await p(0.95), p99Ms: await p(0.99), maxMs: Number(agg.max ?? 0) });
    }
    return out;
  }

  async prune(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM delivery_times WHERE delivered_at < $1', [before])).rowCount ?? 0;
  }
}
