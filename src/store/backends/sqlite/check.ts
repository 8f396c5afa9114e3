/**
 * The metadata check, off the event loop. better-sqlite3 is synchronous: an
 * integrity_check of a large metadata file would stop every connection of
 * the server for as long as it reads (about 0.4 s per 100,000 messages), so
 * the live store's check opens its own read-only connection in a worker
 * thread (WAL lets it read beside the writers) and only waits for the answer.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { MetadataCheckMode } from '../../types.js';
import type { Db } from './db.js';

/** At most this many findings are kept from one check: a badly damaged file can yield millions. */
export const MAX_FINDINGS = 100;

/**
 * The tables whose rows postern cannot do without. quick_check verifies
 * every page's structure but not that a row agrees with its indexes, so a
 * damaged row passes it: the quick check also runs the full integrity_check
 * on these tables (and their indexes); 'full' checks every table.
 */
export const VITAL_TABLES = ['accounts', 'folders', 'messages', 'queue_messages', 'queue_recipients', 'damaged_blobs'] as const;

function pragmasFor(mode: MetadataCheckMode): string[] {
  return mode === 'full' ? [`integrity_check(${MAX_FINDINGS})`] : [`quick_check(${MAX_FINDINGS})`, ...VITAL_TABLES.map((t) => `integrity_check(${t})`)];
}

/** The findings among the pragmas' result lines: [] when every check said "ok". */
function findings(lines: readonly string[]): string[] {
  const out = new Set<string>();
  for (const l of lines.flatMap((x) => x.split('\n'))) {
    if (l === '' || l === 'ok' || l.startsWith('*** in database')) continue;
    out.add(l);
  }
  return [...out].slice(0, MAX_FINDINGS);
}

function cannotCheck(e: unknown): string[] {
  const code = (e as { code?: unknown }).code;
  return [`the database cannot be checked: ${typeof code === 'string' ? `${code}: ` : ''}${(e as Error).message}`];
}

/** Runs the check on this connection; a database too damaged to check is itself the finding. */
export function checkDb(db: Db, mode: MetadataCheckMode): string[] {
  try {
    const lines: string[] = [];
    for (const p of pragmasFor(mode)) {
      for (const r of db.pragma(p, { simple: false }) as Record<string, unknown>[]) lines.push(String(Object.values(r)[0] ?? ''));
    }
    return findings(lines);
  } catch (e) {
    return cannotCheck(e);
  }
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let out;
try {
  const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const lines = [];
    for (const p of workerData.pragmas) for (const r of db.pragma(p, { simple: false })) lines.push(String(Object.values(r)[0] ?? ''));
    out = { lines };
  } finally {
    db.close();
  }
} catch (e) {
  out = { error: String(e && e.message), code: e && e.code };
}
parentPort.postMessage(out);
`;

const driver = createRequire(import.meta.url).resolve('better-sqlite3');

/** The same check in a worker thread on its own read-only connection; in-thread for an in-memory database. */
export async function checkDbOffThread(db: Db, mode: MetadataCheckMode): Promise<string[]> {
  if (db.memory) return checkDb(db, mode);
  const answer = await new Promise<{ lines?: string[]; error?: string; code?: string }>((resolve) => {
    const w = new Worker(WORKER, { eval: true, workerData: { driver, file: db.name, pragmas: pragmasFor(mode) } });
    w.once('message', resolve);
    w.once('error', (e) => resolve({ error: e.message }));
    w.once('exit', (code) => resolve({ error: `the check stopped (exit ${code})` }));
  });
  if (answer.lines) return findings(answer.lines);
  return cannotCheck(Object.assign(new Error(answer.error), { code: answer.code }));
}
