/** Tailing the events table: events after an id, and named cursors moved by compare-and-set (alerts). */
import type { EventKind, StoreEvent } from '../../types.js';
import type { Pool } from './db.js';

export async function eventsAfter(pool: Pool, afterId: number, kinds: readonly EventKind[], limit: number): Promise<StoreEvent[]> {
  if (kinds.length === 0 || limit <= 0) return [];
  const r = await pool.query<{ id: number; at: number; kind: string; subject: string; data: string }>(
    'SELECT * FROM events WHERE id > $1 AND kind = ANY($2::text[]) ORDER BY id LIMIT $3',
    [afterId, [...kinds], limit],
  );
  return r.rows.map((e) => ({ id: e.id, at: e.at, kind: e.kind, subject: e.subject, data: JSON.parse(e.data) as Record<string, unknown> }));
}

export async function readCursor(pool: Pool, name: string, start: number): Promise<number> {
  await pool.query('INSERT INTO event_cursors (name, last_id) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, start]);
  return (await pool.query<{ last_id: number }>('SELECT last_id FROM event_cursors WHERE name = $1', [name])).rows[0]!.last_id;
}

export async function claimCursor(pool: Pool, name: string, fromId: number, toId: number): Promise<boolean> {
  // One UPDATE: under concurrency the row lock lets exactly one node see last_id = fromId.
  const r = await pool.query('UPDATE event_cursors SET last_id = $1 WHERE name = $2 AND last_id = $3', [toId, name, fromId]);
  return r.rowCount === 1;
}
