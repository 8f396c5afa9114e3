import { TALLY_FIELD, type EventKind, type EventRepo, type EventTally, type StoreEvent } from '../../types.js';
import type { Db } from './db.js';
import { claimCursor, eventsAfter, readCursor } from './event-tail.js';

export class SqliteEvents implements EventRepo {
  constructor(private readonly db: Db) {}

  async record(kind: EventKind, subject: string, data: Record<string, unknown>, now: number): Promise<void> {
    this.db.prepare('INSERT INTO events (at, kind, subject, data) VALUES (?, ?, ?, ?)').run(now, kind, subject, JSON.stringify(data));
  }

  async list(kind?: EventKind, limit = 1000, since?: number): Promise<StoreEvent[]> {
    const from = since ?? Number.MIN_SAFE_INTEGER;
    const rows = (
      kind
        ? this.db.prepare('SELECT * FROM events WHERE kind = ? AND at >= ? ORDER BY id DESC LIMIT ?').all(kind, from, limit)
        : this.db.prepare('SELECT * FROM events WHERE at >= ? ORDER BY id DESC LIMIT ?').all(from, limit)
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

  async after(afterId: number, kinds: readonly EventKind[], limit: number): Promise<StoreEvent[]> {
    return eventsAfter(this.db, afterId, kinds, limit);
  }

  async cursor(name: string, start: number): Promise<number> {
    return readCursor(this.db, name, start);
  }

  async claim(name: string, fromId: number, toId: number): Promise<boolean> {
    return claimCursor(this.db, name, fromId, toId);
  }

  async count(kind: EventKind): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM events WHERE kind = ?').get(kind) as { n: number }).n;
  }

  async tally(kind: EventKind, since: number, fields: readonly string[]): Promise<EventTally[]> {
    if (fields.some((f) => !TALLY_FIELD.test(f))) throw new Error('tally: field names are lower-case words');
    const cols = fields.map((f, i) => `json_extract(data, '$.${f}') AS f${i}`);
    const group = fields.map((_, i) => `f${i}`);
    const sql = `SELECT ${[...cols, 'COUNT(*) AS n'].join(', ')} FROM events WHERE kind = ? AND at >= ?${group.length ? ` GROUP BY ${group.join(', ')}` : ''} ORDER BY n DESC`;
    const rows = this.db.prepare(sql).all(kind, since) as Record<string, unknown>[];
    return rows
      .filter((r) => Number(r.n) > 0)
      .map((r) => ({ labels: Object.fromEntries(fields.map((f, i) => [f, r[`f${i}`] === null || r[`f${i}`] === undefined ? null : String(r[`f${i}`])])), count: Number(r.n) }));
  }
}
