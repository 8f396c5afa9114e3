import type { Db } from './db.js';
import { prepared } from './statements.js';

/** See QueueRepo.oldestAge. */
export function oldestAge(db: Db, now: number): number | null {
  const r = prepared(db,
      "SELECT MIN(m.received_at) AS t FROM queue_messages m WHERE EXISTS (SELECT 1 FROM queue_recipients r WHERE r.queue_id = m.id AND r.state IN ('queued','deferred','leased','scanning'))",
    )
    .get() as { t: number | null };
  return r.t === null ? null : Math.max(0, now - r.t);
}
