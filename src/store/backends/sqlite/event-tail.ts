/** Tailing the events table: events after an id, and named cursors moved by compare-and-set (alerts). */
import type { EventKind, StoreEvent } from '../../types.js';
import type { Db } from './db.js';
import { prepared } from './statements.js';

export function eventsAfter(db: Db, afterId: number, kinds: readonly EventKind[], limit: number): StoreEvent[] {
  if (kinds.length === 0 || limit <= 0) return [];
  const rows = db
    .prepare(`SELECT * FROM events WHERE id > ? AND kind IN (${kinds.map(() => '?').join(', ')}) ORDER BY id LIMIT ?`)
    .all(afterId, ...kinds, limit) as { id: number; at: number; kind: string; subject: string; data: string }[];
  return rows.map((r) => ({ id: r.id, at: r.at, kind: r.kind, subject: r.subject, data: JSON.parse(r.data) as Record<string, unknown> }));
}

export function readCursor(db: Db, name: string, start: number): number {
  prepared(db, 'INSERT INTO event_cursors (name, last_id) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(name, start);
  return (prepared(db, 'SELECT last_id FROM event_cursors WHERE name = ?').get(name) as { last_id: number }).last_id;
}

export function claimCursor(db: Db, name: string, fromId: number, toId: number): boolean {
  return prepared(db, 'UPDATE event_cursors SET last_id = ? WHERE name = ? AND last_id = ?').run(toId, name, fromId).changes === 1;
}
