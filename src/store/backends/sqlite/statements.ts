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

/** Rows per statement for runRows: enough to amortise a statement's call, short enough to stay under SQLite's 32,766 parameters. */
export const ROWS_PER_STATEMENT = 100;

/**
 * Runs `sql(tuples)` for rows of `width` parameters each, ROWS_PER_STATEMENT
 * rows to a statement and the rest one row at a time (two compiled texts, not
 * one per remainder length). `sql(n)` must hold n parenthesised tuples, as
 * `tuples(n, width)` writes them: one call per hundred rows instead of one per
 * row, which is most of the cost of writing small rows from JavaScript.
 */
export function runRows(db: Db, sql: (tuples: string) => string, width: number, rows: readonly (readonly unknown[])[]): void {
  let i = 0;
  if (rows.length >= ROWS_PER_STATEMENT) {
    const many = prepared(db, sql(tuples(ROWS_PER_STATEMENT, width)));
    const args: unknown[] = [];
    for (; i + ROWS_PER_STATEMENT <= rows.length; i += ROWS_PER_STATEMENT, args.length = 0) {
      for (let k = i; k < i + ROWS_PER_STATEMENT; k++) for (const a of rows[k]!) args.push(a);
      many.run(args);
    }
  }
  if (i === rows.length) return;
  const one = prepared(db, sql(tuples(1, width)));
  for (; i < rows.length; i++) one.run(rows[i]!);
}

/** `(?, ?), (?, ?)`: n tuples of `width` parameters. */
export function tuples(n: number, width: number): string {
  const one = `(${Array(width).fill('?').join(', ')})`;
  return Array(n).fill(one).join(', ');
}

/**
 * Runs fn in a transaction (BEGIN DEFERRED or IMMEDIATE, or a savepoint when
 * one is open), committing when it returns and rolling back when it throws,
 * as better-sqlite3's db.transaction(fn) does. That function builds four
 * wrappers and defines twenty properties on every call; for the IMAP
 * repository, whose transactions wrap closures over each call's arguments,
 * that was 2.7 % of the event loop under imaptest's stress load. Here the
 * statements are compiled once per connection.
 */
export function transact<T>(db: Db, mode: 'deferred' | 'immediate', fn: () => T): T {
  const nested = db.inTransaction;
  const begin = prepared(db, nested ? 'SAVEPOINT postern_tx' : mode === 'immediate' ? 'BEGIN IMMEDIATE' : 'BEGIN DEFERRED');
  const done = prepared(db, nested ? 'RELEASE postern_tx' : 'COMMIT');
  const undo = prepared(db, nested ? 'ROLLBACK TO postern_tx' : 'ROLLBACK');
  begin.run();
  try {
    const result = fn();
    if (result instanceof Promise) throw new TypeError('a transaction function cannot return a promise');
    done.run();
    return result;
  } catch (e) {
    // SQLite may have rolled back already (some errors end the transaction themselves).
    if (db.inTransaction) {
      undo.run();
      if (nested) done.run();
    }
    throw e;
  }
}
