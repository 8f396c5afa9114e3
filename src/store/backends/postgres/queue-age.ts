import type { Pool } from './db.js';

/** See QueueRepo.oldestAge. */
export async function oldestAge(pool: Pool, now: number): Promise<number | null> {
  const r = await pool.query<{ t: number | null }>(
    "SELECT MIN(m.received_at) AS t FROM queue_messages m WHERE EXISTS (SELECT 1 FROM queue_recipients r WHERE r.queue_id = m.id AND r.state IN ('queued','deferred','leased','scanning'))",
  );
  const t = r.rows[0]?.t ?? null;
  return t === null ? null : Math.max(0, now - t);
}
