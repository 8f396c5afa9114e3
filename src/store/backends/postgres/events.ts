import { TALLY_FIELD, type EventBucket, type EventKind, type EventRepo, type EventTally, type NewEvent, type StoreEvent } from '../../types.js';
import type { Pool } from './db.js';
import { claimCursor, eventsAfter, readCursor } from './event-tail.js';

interface EventRow {
  id: number;
  at: number;
  kind: string;
  subject: string;
  data: string;
}

/**
 * Event ids become visible in id order. A tail (the alerts' cursor) that has
 * seen id n takes every event up to n as read; but ids are drawn at insert
 * and become visible at commit, so with several connections inserting at
 * once, id 11 could be seen while id 10 was not yet committed, and the tail
 * moved past 10 for good (an alert lost; seen once in 400 under two nodes).
 * Every insert therefore takes one transaction-scoped advisory lock before
 * its ids are drawn (a volatile CTE is read before the first row reaches
 * the INSERT) and holds it until it commits: ids are drawn in commit order.
 */
const EVENT_ORDER_LOCK = 0x65766e74; // 'evnt'
const ORDERED = `WITH ordered AS MATERIALIZED (SELECT pg_advisory_xact_lock(${EVENT_ORDER_LOCK}))`;
/** Events as four arrays of the same length ($1 at, $2 kind, $3 subject, $4 data). */
export const INSERT_EVENTS = `${ORDERED} INSERT INTO events (at, kind, subject, data) SELECT u.* FROM ordered, unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u`;

const toEvent = (e: EventRow): StoreEvent => ({ id: e.id, at: e.at, kind: e.kind, subject: e.subject, data: JSON.parse(e.data) as Record<string, unknown> });

function checkFields(fields: readonly string[]): void {
  if (fields.some((f) => !TALLY_FIELD.test(f))) throw new Error('tally: field names are words of letters, digits and _ starting lower-case');
}

const labelsOf = (fields: readonly string[], row: Record<string, unknown>): Record<string, string | null> =>
  Object.fromEntries(fields.map((f, i) => [f, row[`f${i}`] === null || row[`f${i}`] === undefined ? null : String(row[`f${i}`])]));

export class PgEvents implements EventRepo {
  constructor(private readonly pool: Pool) {}

  async record(kind: EventKind, subject: string, data: Record<string, unknown>, now: number): Promise<void> {
    await this.recordMany([{ at: now, kind, subject, data }]);
  }

  async recordMany(events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.pool.query(INSERT_EVENTS, [
      events.map((e) => e.at),
      events.map((e) => e.kind),
      events.map((e) => e.subject),
      events.map((e) => JSON.stringify(e.data)),
    ]);
  }

  async list(kind?: EventKind, limit = 1000, since?: number): Promise<StoreEvent[]> {
    const from = since ?? Number.MIN_SAFE_INTEGER;
    const r = kind
      ? await this.pool.query<EventRow>('SELECT * FROM events WHERE kind = $1 AND at >= $2 ORDER BY id DESC LIMIT $3', [kind, from, limit])
      : await this.pool.query<EventRow>('SELECT * FROM events WHERE at >= $1 ORDER BY id DESC LIMIT $2', [from, limit]);
    return r.rows.map(toEvent);
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

  async tally(kind: EventKind, since: number, fields: readonly string[], until = Number.MAX_SAFE_INTEGER): Promise<EventTally[]> {
    checkFields(fields);
    if (fields.length === 0) {
      const n = (await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM events WHERE kind = $1 AND at >= $2 AND at < $3', [kind, since, until])).rows[0]!.n;
      return n > 0 ? [{ labels: {}, count: n }] : [];
    }
    const cols = fields.map((f, i) => `(d::jsonb)->>'${f}' AS f${i}`);
    const group = fields.map((_, i) => `f${i}`);
    // Events that carry only labels repeat a few data texts: each distinct text is parsed once.
    const sql = `SELECT ${[...cols, 'SUM(n) AS n'].join(', ')} FROM (SELECT data AS d, count(*) AS n FROM events WHERE kind = $1 AND at >= $2 AND at < $3 GROUP BY data) t GROUP BY ${group.join(', ')} ORDER BY n DESC`;
    const r = await this.pool.query<Record<string, unknown>>(sql, [kind, since, until]);
    return r.rows.filter((row) => Number(row.n) > 0).map((row) => ({ labels: labelsOf(fields, row), count: Number(row.n) }));
  }

  async histogram(kind: EventKind, since: number, until: number, bucketMs: number, fields: readonly string[]): Promise<EventBucket[]> {
    checkFields(fields);
    if (!(Number.isInteger(bucketMs) && bucketMs > 0)) throw new Error('histogram: bucketMs is a positive whole number');
    const cols = fields.map((f, i) => `(d::jsonb)->>'${f}' AS f${i}`);
    const group = ['b', ...fields.map((_, i) => `f${i}`)];
    const inner = 'SELECT (at - $4::bigint) / $5::bigint AS b, data AS d, count(*) AS n FROM events WHERE kind = $1 AND at >= $2 AND at < $3 GROUP BY b, data';
    const sql = `SELECT ${['b', ...cols, 'SUM(n) AS n'].join(', ')} FROM (${inner}) t GROUP BY ${group.join(', ')} ORDER BY b, n DESC`;
    const r = await this.pool.query<Record<string, unknown>>(sql, [kind, since, until, since, bucketMs]);
    return r.rows.map((row) => ({ start: since + Number(row.b) * bucketMs, labels: labelsOf(fields, row), count: Number(row.n) }));
  }

  async topSubjects(kind: EventKind, since: number, until: number, limit: number): Promise<{ subject: string; count: number }[]> {
    const sql = 'SELECT subject, COUNT(*) AS n FROM events WHERE kind = $1 AND at >= $2 AND at < $3 GROUP BY subject ORDER BY n DESC, subject LIMIT $4';
    const r = await this.pool.query<{ subject: string; n: number }>(sql, [kind, since, until, limit]);
    return r.rows.map((row) => ({ subject: row.subject, count: Number(row.n) }));
  }

  async latest(kind: EventKind, atOrBefore: number): Promise<StoreEvent | null> {
    const r = await this.pool.query<EventRow>('SELECT * FROM events WHERE kind = $1 AND at <= $2 ORDER BY at DESC, id DESC LIMIT 1', [kind, atOrBefore]);
    return r.rows[0] ? toEvent(r.rows[0]) : null;
  }

  async between(kind: EventKind, since: number, until: number, limit = 10_000): Promise<StoreEvent[]> {
    const r = await this.pool.query<EventRow>('SELECT * FROM events WHERE kind = $1 AND at >= $2 AND at < $3 ORDER BY at, id LIMIT $4', [kind, since, until, limit]);
    return r.rows.map(toEvent);
  }
}
