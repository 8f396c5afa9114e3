import { TALLY_FIELD, type EventBucket, type EventKind, type EventRepo, type EventTally, type NewEvent, type StoreEvent } from '../../types.js';
import { withoutSync, type Db } from './db.js';
import { claimCursor, eventsAfter, readCursor } from './event-tail.js';
import { prepared } from './statements.js';

interface EventRow {
  id: number;
  at: number;
  kind: string;
  subject: string;
  data: string;
}

const toEvent = (r: EventRow): StoreEvent => ({ id: r.id, at: r.at, kind: r.kind, subject: r.subject, data: JSON.parse(r.data) as Record<string, unknown> });

function checkFields(fields: readonly string[]): void {
  if (fields.some((f) => !TALLY_FIELD.test(f))) throw new Error('tally: field names are words of letters, digits and _ starting lower-case');
}

const labelsOf = (fields: readonly string[], r: Record<string, unknown>): Record<string, string | null> =>
  Object.fromEntries(fields.map((f, i) => [f, r[`f${i}`] === null || r[`f${i}`] === undefined ? null : String(r[`f${i}`])]));

export class SqliteEvents implements EventRepo {
  constructor(private readonly db: Db) {}

  // Events are counts and notices, not mail: their commits do not wait for the
  // disk (withoutSync). A process crash keeps them (WAL); a power failure may
  // lose those written since the last synced commit, which every accepted or
  // delivered message makes. On a busy intake this saves one fsync on the event
  // loop per batch, which every session waited behind.
  async record(kind: EventKind, subject: string, data: Record<string, unknown>, now: number): Promise<void> {
    const insert = prepared(this.db, 'INSERT INTO events (at, kind, subject, data) VALUES (?, ?, ?, ?)');
    withoutSync(this.db, () => insert.run(now, kind, subject, JSON.stringify(data)));
  }

  async recordMany(events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    const insert = prepared(this.db, 'INSERT INTO events (at, kind, subject, data) VALUES (?, ?, ?, ?)');
    const write = this.db.transaction(() => {
      for (const e of events) insert.run(e.at, e.kind, e.subject, JSON.stringify(e.data));
    });
    withoutSync(this.db, () => write());
  }

  async list(kind?: EventKind, limit = 1000, since?: number): Promise<StoreEvent[]> {
    const from = since ?? Number.MIN_SAFE_INTEGER;
    const rows = (
      kind
        ? prepared(this.db, 'SELECT * FROM events WHERE kind = ? AND at >= ? ORDER BY id DESC LIMIT ?').all(kind, from, limit)
        : prepared(this.db, 'SELECT * FROM events WHERE at >= ? ORDER BY id DESC LIMIT ?').all(from, limit)
    ) as EventRow[];
    return rows.map(toEvent);
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
    return (prepared(this.db, 'SELECT COUNT(*) AS n FROM events WHERE kind = ?').get(kind) as { n: number }).n;
  }

  async tally(kind: EventKind, since: number, fields: readonly string[], until = Number.MAX_SAFE_INTEGER): Promise<EventTally[]> {
    checkFields(fields);
    if (fields.length === 0) {
      const n = (prepared(this.db, 'SELECT COUNT(*) AS n FROM events WHERE kind = ? AND at >= ? AND at < ?').get(kind, since, until) as { n: number }).n;
      return n > 0 ? [{ labels: {}, count: n }] : [];
    }
    const cols = fields.map((f, i) => `json_extract(d, '$.${f}') AS f${i}`);
    const group = fields.map((_, i) => `f${i}`);
    // Events that carry only labels repeat a few data texts: each distinct text is parsed once.
    const sql = `SELECT ${[...cols, 'SUM(n) AS n'].join(', ')} FROM (SELECT data AS d, COUNT(*) AS n FROM events WHERE kind = ? AND at >= ? AND at < ? GROUP BY data) GROUP BY ${group.join(', ')} ORDER BY n DESC`;
    const rows = this.db.prepare(sql).all(kind, since, until) as Record<string, unknown>[];
    return rows.filter((r) => Number(r.n) > 0).map((r) => ({ labels: labelsOf(fields, r), count: Number(r.n) }));
  }

  async histogram(kind: EventKind, since: number, until: number, bucketMs: number, fields: readonly string[]): Promise<EventBucket[]> {
    checkFields(fields);
    if (!(Number.isInteger(bucketMs) && bucketMs > 0)) throw new Error('histogram: bucketMs is a positive whole number');
    const cols = fields.map((f, i) => `json_extract(d, '$.${f}') AS f${i}`);
    const group = ['b', ...fields.map((_, i) => `f${i}`)];
    const inner = `SELECT CAST((at - ?) / ? AS INTEGER) AS b, data AS d, COUNT(*) AS n FROM events WHERE kind = ? AND at >= ? AND at < ? GROUP BY b, data`;
    const sql = `SELECT ${['b', ...cols, 'SUM(n) AS n'].join(', ')} FROM (${inner}) GROUP BY ${group.join(', ')} ORDER BY b, n DESC`;
    const rows = this.db.prepare(sql).all(since, bucketMs, kind, since, until) as Record<string, unknown>[];
    return rows.map((r) => ({ start: since + Number(r.b) * bucketMs, labels: labelsOf(fields, r), count: Number(r.n) }));
  }

  async topSubjects(kind: EventKind, since: number, until: number, limit: number): Promise<{ subject: string; count: number }[]> {
    const sql = 'SELECT subject, COUNT(*) AS n FROM events WHERE kind = ? AND at >= ? AND at < ? GROUP BY subject ORDER BY n DESC, subject LIMIT ?';
    return (this.db.prepare(sql).all(kind, since, until, limit) as { subject: string; n: number }[]).map((r) => ({ subject: r.subject, count: r.n }));
  }

  async latest(kind: EventKind, atOrBefore: number): Promise<StoreEvent | null> {
    const r = prepared(this.db, 'SELECT * FROM events WHERE kind = ? AND at <= ? ORDER BY at DESC, id DESC LIMIT 1').get(kind, atOrBefore) as EventRow | undefined;
    return r ? toEvent(r) : null;
  }

  async between(kind: EventKind, since: number, until: number, limit = 10_000): Promise<StoreEvent[]> {
    return (prepared(this.db, 'SELECT * FROM events WHERE kind = ? AND at >= ? AND at < ? ORDER BY at, id LIMIT ?').all(kind, since, until, limit) as EventRow[]).map(toEvent);
  }
}
