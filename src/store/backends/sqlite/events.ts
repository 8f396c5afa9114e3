import type { EventKind, EventRepo, StoreEvent } from '../../types.js';
import type { Db } from './db.js';

export class SqliteEvents implements EventRepo {
  constructor(private readonly db: Db) {}

  async record(kind: EventKind, subject: string, data: Record<string, unknown>, now: number): Promise<void> {
    this.db.prepare('INSERT INTO events (at, kind, subject, data) VALUES (?, ?, ?, ?)').run(now, kind, subject, JSON.stringify(data));
  }

  async list(kind?: EventKind, limit = 1000): Promise<StoreEvent[]> {
    const rows = (
      kind
        ? this.db.prepare('SELECT * FROM events WHERE kind = ? ORDER BY id DESC LIMIT ?').all(kind, limit)
        : this.db.prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(limit)
    ) as { id: number; at: number; kind: string; subject: string; data: string }[];
    return rows.map((r) => ({ id: r.id, at: r.at, kind: r.kind, subject: r.subject, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  async prune(before: number, limit: number, dryRun = false): Promise<number> {
    // A newer event of the same kind exists: found at once through events_kind (kind, at).
    const superseded = 'EXISTS (SELECT 1 FROM events n WHERE n.kind = e.kind AND n.at >= e.at AND n.id > e.id)';
    if (dryRun) return (this.db.prepare(`SELECT COUNT(*) AS n FROM events e WHERE e.at < ? AND ${superseded}`).get(before) as { n: number }).n;
    return this.db
      .prepare(`DELETE FROM events WHERE id IN (SELECT e.id FROM events e WHERE e.at < ? AND ${superseded} ORDER BY e.id LIMIT ?)`)
      .run(before, limit).changes;
  }

  async count(kind: EventKind): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM events WHERE kind = ?').get(kind) as { n: number }).n;
  }
}
