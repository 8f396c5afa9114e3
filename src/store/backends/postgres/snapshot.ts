import { promises as fsp } from 'node:fs';
import { PosternError } from '../../../core/errors.js';
import { openDb } from '../sqlite/db.js';
import { tx, type Pool } from './db.js';

/** Rows fetched from the server cursor per round trip. */
const PAGE = 2000;

const quote = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** SQLite tables of derived data PostgreSQL does not keep: left empty in a snapshot (SQLite rebuilds them as it is used). */
const SQLITE_ONLY = new Set(['message_search']);

/**
 * Copies the metadata from one REPEATABLE READ snapshot (writers go on) into
 * a new SQLite metadata file with the current SQLite schema, table by table
 * through a server-side cursor so memory stays flat. Every SQLite table must
 * exist with all its columns in PostgreSQL: a snapshot is never silently
 * incomplete. PostgreSQL-only tables (blob containers, migrations) are not copied,
 * and SQLite-only derived ones (SQLITE_ONLY) stay empty.
 */
export async function writeSqliteSnapshot(pool: Pool, file: string): Promise<void> {
  await Promise.all(['', '-wal', '-shm', '-journal'].map((s) => fsp.rm(file + s, { force: true })));
  const out = openDb(file);
  try {
    const all = out.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").pluck().all() as string[];
    const tables = all.filter((t) => !SQLITE_ONLY.has(t));
    out.exec('BEGIN');
    // Tables are copied in name order, not in dependency order: keys are checked at COMMIT.
    out.pragma('defer_foreign_keys = ON');
    await tx(
      pool,
      async (c) => {
        for (const t of tables) {
          const cols = (out.pragma(`table_info(${quote(t)})`) as { name: string }[]).map((x) => x.name);
          const have = await c.query<{ column_name: string }>(
            'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
            [t],
          );
          const pgCols = new Set(have.rows.map((x) => x.column_name));
          const missing = cols.filter((x) => !pgCols.has(x));
          if (missing.length > 0) {
            throw new PosternError('INVARIANT', `cannot snapshot table ${t}: PostgreSQL lacks ${pgCols.size === 0 ? 'the table' : `columns ${missing.join(', ')}`}`);
          }
          const list = cols.map(quote).join(', ');
          const ins = out.prepare(`INSERT INTO ${quote(t)} (${list}) VALUES (${cols.map(() => '?').join(', ')})`);
          await c.query(`DECLARE snap NO SCROLL CURSOR FOR SELECT ${list} FROM ${quote(t)}`);
          for (;;) {
            const r = await c.query<unknown[]>({ text: `FETCH ${PAGE} FROM snap`, rowMode: 'array' });
            for (const row of r.rows) ins.run(row.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v)));
            if (r.rows.length < PAGE) break;
          }
          await c.query('CLOSE snap');
        }
      },
      'snapshot',
    );
    out.exec('COMMIT');
    // A self-contained single file: no -wal beside it, so it can be digested and copied.
    out.pragma('journal_mode = DELETE');
  } catch (e) {
    if (out.inTransaction) out.exec('ROLLBACK');
    out.close();
    // Half a snapshot must not be mistaken for one.
    await fsp.rm(file, { force: true });
    throw e;
  }
  out.close();
}
