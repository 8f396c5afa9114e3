import { existsSync, mkdtempSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb, type Db } from './db.js';

/** Files this process holds open under SQLite's temporary-file names (they are unlinked as soon as made). */
function sqliteTempFiles(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.includes('etilqs_')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** A statement that is not the transaction's first and changes more than SQLite keeps of a statement journal in memory by default (64 KiB). */
function bigSecondStatement(db: Db): string[] {
  db.exec('BEGIN');
  try {
    db.prepare("INSERT INTO t (k) VALUES ('first')").run();
    db.exec("UPDATE t SET k = k || 'x' WHERE id <= 20000");
    return sqliteTempFiles();
  } finally {
    db.exec('ROLLBACK');
  }
}

describe.skipIf(!existsSync('/proc/self/fd'))('openDb: temporary data', () => {
  it('keeps statement journals in memory, never in a file outside the data folder', () => {
    const db = openDb(path.join(mkdtempSync(path.join(tmpdir(), 'postern-db-')), 'meta.db'));
    try {
      expect(db.pragma('temp_store', { simple: true })).toBe(2); // MEMORY
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE)');
      const ins = db.prepare('INSERT INTO t (k) VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 20000; i++) ins.run(`row ${i} ${'.'.repeat(40)}`);
      })();
      expect(bigSecondStatement(db)).toEqual([]);
      // The same statement with SQLite's default spills its journal to a file: what this test looks for is there to see.
      db.pragma('temp_store = DEFAULT');
      expect(bigSecondStatement(db).length).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });
});
