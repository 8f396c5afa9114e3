import type Database from 'better-sqlite3';
import type { Db } from './db.js';

type Statement = Database.Statement<unknown[]>;

/**
 * Most SQL texts in the repositories are constants, and compiling one
 * (db.prepare) costs more than running it: per message that was a visible
 * share of the event loop. So each connection keeps its compiled statements
 * by SQL text. The bound keeps texts built at run time (IN lists of varying
 * length) from growing the map without end; the oldest entry goes first.
 *
 * A cached statement is shared by every caller of the same text: never change
 * its mode (pluck, raw, expand, safeIntegers) on it; use `preparedPluck` for
 * the single-column form and `preparedRaw` for rows as arrays. Not for `iterate()`: a statement that is being
 * iterated cannot run again until the iteration ends.
 */
const MAX_PER_DB = 256;

const byDb = new WeakMap<Db, Map<string, Statement>>();

function cached(db: Db, key: string, make: () => Statement): Statement {
  let forDb = byDb.get(db);
  if (!forDb) byDb.set(db, (forDb = new Map()));
  let st = forDb.get(key);
  if (!st) {
    st = make();
    if (forDb.size >= MAX_PER_DB) forDb.delete(forDb.keys().next().value!);
    forDb.set(key, st);
  }
  return st;
}

/** The compiled statement for `sql` on this connection (compiled on first use). */
export function prepared(db: Db, sql: string): Statement {
  return cached(db, sql, () => db.prepare(sql));
}

/** The same, returning the first column of each row only (a separate statement from `prepared`'s). */
export function preparedPluck(db: Db, sql: string): Statement {
  return cached(db, `pluck\0${sql}`, () => db.prepare(sql).pluck());
}

/** The same, returning each row as an array of its columns (a separate statement from `prepared`'s). */
export function preparedRaw(db: Db, sql: string): Statement {
  return cached(db, `raw\0${sql}`, () => db.prepare(sql).raw(true));
}

/** Statements cached for this connection (for tests). */
export function preparedCount(db: Db): number {
  return byDb.get(db)?.size ?? 0;
}
