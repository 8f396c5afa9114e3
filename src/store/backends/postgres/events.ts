import { TALLY_FIELD, type EventKind, type EventRepo, type EventTally, type StoreEvent } from '../../types.js';
import type { Pool } from './db.js';
import { claimCursor, eventsAfter, readCursor } from './event-tail.js';

interface EventRow {
  id: number;
  at: number;
  kind: string;
  subject: string;
  data: string;
}

export class PgEvents implements EventRepo {
  constructor(private readonly pool: Pool) {}

  async record(kind: EventKind, subject: string, data: Record<string, unknown>, now: number): Promise<void> {
    await this.pool.query('INSERT INTO events (at, kind, subject, data) VALUES ($1, $2, $3, $4)', [now, kind, subject, JSON.stringify(data)]);
  }

  async list(kind?: EventKind, limit = 1000, since?: number): Promise<StoreEvent[]> {
    const from = since ?? Number.MIN_SAFE_INTEGER;
    const r = kind
      ? await this.pool.query<EventRow>('SELECT * FROM events WHERE kind = $1 AND at >= $2 ORDER BY id DESC LIMIT $3', [kind, from, limit])
      : await this.pool.query<EventRow>('SELECT * FROM events WHERE at >= $1 ORDER BY id DESC LIMIT $2', [from, limit]);
    return r.rows.map((e) => ({ id: e.id, at: e.at, kind: e.kind, subject: e.subject, data: JSON.parse(e.data) as Record<string, unknown> }));
  }

  async prune(before: number, limit: number, dryRun = false): Promise<number> {
    // A newer event of the same kind exists: found at once through events_kind (kind, id).
    const superseded = 'EXISTS (SELECT 1 FROM events n WHERE n.kind = e.kind AND n.id > e.id)';
    if (dryRun) return (await this.pool.query<{ n: number }>(`SELECT count(*) AS n FROM events e WHERE e.at < $1 AND ${superseded}`, [before])).rows[0]!.n;
    const r = await this.pool.query(`DELETE FROM events WHERE id IN (SELECT e.id FROM events e WHERE e.at < $1 AND ${superseded} ORDER BY e.id LIMIT $2)`, [
      before,
      limit,
    ]);
    return r.rowCount ?? 0;
  }

  async after(afterId: number, kinds: readonly EventKind[], limit: number): Promise<StoreEvent[]> {
    return eventsAfter(this.pool, afterId, kinds, limit);
  }

  async cursor(name: string, start: number): Promise<number> {
    return readCursor(this.pool, name, start);
  }

  async claim(name: string, fromId: number, toId: number): Promise<boolean> {
    return claimCursor(this.pool, name, fromId, toId);
  }

  async count(kind: EventKind): Promise<number> {
    return (await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM events WHERE kind = $1', [kind])).rows[0]!.n;
  }

  async tally(kind: EventKind, since: number, fields: readonly string[]): Promise<EventTally[]> {
    if (fields.some((f) => !TALLY_FIELD.test(f))) throw new Error('tally: field names are lower-case words');
    const cols = fields.map((f, i) => `(data::jsonb)->>'${f}' AS f${i}`);
    const group = fields.map((_, i) => `f${i}`);
    const sql = `SELECT ${[...cols, 'COUNT(*) AS n'].join(', ')} FROM events WHERE kind = $1 AND at >= $2${group.length ? ` GROUP BY ${group.join(', ')}` : ''} ORDER BY n DESC`;
    const r = await this.pool.query<Record<string, unknown>>(sql, [kind, since]);
    return r.rows
      .filter((row) => Number(row.n) > 0)
      .map((row) => ({ labels: Object.fromEntries(fields.map((f, i) => [f, row[`f${i}`] === null || row[`f${i}`] === undefined ? null : String(row[`f${i}`])])), count: Number(row.n) }));
  }
}
