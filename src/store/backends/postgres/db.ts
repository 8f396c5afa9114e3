import pg from 'pg';
import { PosternError } from '../../../core/errors.js';
import { MIGRATIONS } from './schema.js';

export type Pool = pg.Pool;
export type Client = pg.PoolClient;
/** A pool or a connection inside a transaction: whatever runs a query. */
export type Queryable = Pick<Client, 'query'>;

export interface PgOptions {
  /** postgres://user:password@host:port/database; `?options=-c search_path=...` is honoured. */
  url: string;
  /** Schema to keep postern's tables in (created if missing); default: the connection's search_path. */
  schema?: string;
  /** Connections per pool (per node). */
  max?: number;
}

const INT8 = 20;
const NUMERIC = 1700;

/**
 * bigint and numeric (what SUM(bigint) returns) come back as numbers: ids,
 * sizes and millisecond times all fit in 2^53, and the repositories promise
 * numbers. Set per pool so no other user of pg is affected.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if ((oid === INT8 || oid === NUMERIC) && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}

function poolConfig(opts: PgOptions, extraOptions: string[]): pg.PoolConfig {
  if (opts.schema !== undefined && !SCHEMA_RE.test(opts.schema)) {
    throw new PosternError('CONFIG_INVALID', `store schema ${JSON.stringify(opts.schema)} must match ${SCHEMA_RE}`);
  }
  let u: URL;
  try {
    u = new URL(opts.url);
  } catch {
    // The URL may hold a password: never echo it.
    throw new PosternError('CONFIG_INVALID', 'store.url is not a valid postgres:// URL');
  }
  // pg lets `?options=` in the URL override the options field, so merge the two here.
  const urlOptions = u.searchParams.get('options');
  u.searchParams.delete('options');
  const options = [urlOptions ?? '', ...(opts.schema ? [`-c search_path=${opts.schema}`] : []), ...extraOptions].filter(Boolean).join(' ');
  return {
    connectionString: u.toString(),
    max: opts.max ?? 10,
    types,
    application_name: 'postern',
    // A server that does not answer fails the caller (a 4xx for SMTP) instead of hanging it.
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    ...(options ? { options } : {}),
  };
}

function newPool(config: pg.PoolConfig): Pool {
  const pool = new pg.Pool(config);
  // An idle connection that breaks (server restart) is dropped from the pool;
  // the next query opens a new one. Without a listener the error would crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Opens a pool, makes sure commits are durable and the schema is current.
 * `250` must mean "committed and flushed": if the server runs with
 * synchronous_commit = off, postern's sessions turn it back on.
 */
export async function openPool(opts: PgOptions): Promise<Pool> {
  let pool = newPool(poolConfig(opts, []));
  try {
    const r = await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
    if (r.rows[0]?.synchronous_commit === 'off') {
      await pool.end();
      pool = newPool(poolConfig(opts, ['-c synchronous_commit=on']));
    }
    await migrate(pool, opts.schema);
    return pool;
  } catch (e) {
    await pool.end().catch(() => undefined);
    if (e instanceof PosternError) throw e;
    throw new PosternError('STORE_UNAVAILABLE', `PostgreSQL at ${redactUrl(opts.url)}: ${(e as Error).message}`, { cause: e });
  }
}

/** Errors after which the whole transaction may simply be run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

export type TxMode = 'write' | 'snapshot';

/**
 * Runs fn in one transaction on one connection. 'snapshot' is REPEATABLE READ
 * READ ONLY: every query sees the same committed state. fn must have no
 * effects outside the database, since a deadlock or serialization failure
 * runs it again (a few times).
 */
export async function tx<T>(pool: Pool, fn: (c: Client) => Promise<T>, mode: TxMode = 'write'): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const c = await pool.connect();
    let broken: Error | undefined;
    try {
      await c.query(mode === 'snapshot' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      try {
        await c.query('ROLLBACK');
      } catch (re) {
        broken = re as Error; // the connection is gone: do not hand it out again
      }
      const code = (e as { code?: string }).code;
      if (attempt < 5 && code !== undefined && RETRYABLE.has(code) && !broken) continue;
      throw e;
    } finally {
      c.release(broken);
    }
  }
}

/** True for a unique_violation from PostgreSQL. */
export function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string }).code === '23505';
}

// Migrations of every postern node serialise on this advisory lock (per database).
const MIGRATE_LOCK = 0x706f7374; // 'post'

async function migrate(pool: Pool, schema: string | undefined): Promise<void> {
  await tx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
    if (schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await c.query(`CREATE TABLE IF NOT EXISTS postern_migrations (
      version integer PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const r = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM postern_migrations');
    const current = r.rows[0]?.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new PosternError('CONFIG_INVALID', `the database schema is version ${current}, newer than this postern knows (${MIGRATIONS.length}); upgrade postern`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      await c.query(MIGRATIONS[v]!);
      await c.query('INSERT INTO postern_migrations (version) VALUES ($1)', [v + 1]);
    }
  });
}

/** The schema version this build creates. */
export const SCHEMA_VERSION = MIGRATIONS.length;
