import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb, type Db } from './db.js';
import { prepared, preparedCount, preparedPluck, runRows, transact, tuples } from './statements.js';
import { SqliteDirectory } from './directory.js';

describe('prepared statements are compiled once per connection and SQL text', () => {
  const dbs: Db[] = [];
  const open = (): Db => {
    const db = openDb(path.join(mkdtempSync(path.join(tmpdir(), 'postern-stmt-')), 'meta.db'));
    dbs.push(db);
    return db;
  };
  afterEach(() => {
    for (const db of dbs.splice(0)) db.close();
    vi.restoreAllMocks();
  });

  it('a second call reuses the statement and returns the same rows', async () => {
    const db = open();
    const dir = new SqliteDirectory(db);
    await dir.addDomain('example.test', 1);
    const spy = vi.spyOn(db, 'prepare');
    expect(await dir.hasDomain('example.test')).toBe(true);
    expect(await dir.hasDomain('example.test')).toBe(true);
    expect(await dir.hasDomain('other.test')).toBe(false);
    expect(spy.mock.calls.filter(([sql]) => sql === 'SELECT 1 FROM domains WHERE name = ?')).toHaveLength(1);
    await dir.addDomain('b.test', 2);
    // A cached read sees rows written after it was compiled.
    expect(await dir.hasDomain('b.test')).toBe(true);
    expect((await dir.listDomains()).map((d) => d.name)).toEqual(['b.test', 'example.test']);
  });

  it('keeps one cache per connection', () => {
    const a = open();
    const b = open();
    expect(prepared(a, 'SELECT 1')).toBe(prepared(a, 'SELECT 1'));
    expect(prepared(a, 'SELECT 1')).not.toBe(prepared(b, 'SELECT 1'));
  });

  it('keeps the single-column form apart from the row form of the same text', () => {
    const db = open();
    const sql = 'SELECT 7 AS n';
    expect(preparedPluck(db, sql).get()).toBe(7);
    expect(prepared(db, sql).get()).toEqual({ n: 7 });
    expect(preparedPluck(db, sql).get()).toBe(7);
  });

  it('bounds the cache: the oldest text goes first and is compiled again when asked for', () => {
    const db = open();
    const first = prepared(db, 'SELECT 0');
    for (let i = 1; i <= 300; i++) prepared(db, `SELECT ${i}`);
    expect(preparedCount(db)).toBe(256);
    const again = prepared(db, 'SELECT 0');
    expect(again).not.toBe(first);
    expect(again.get()).toEqual({ 0: 0 });
  });
});

describe('runRows writes rows a hundred to a statement, the rest one at a time', () => {
  it.each([0, 1, 99, 100, 101, 250])('%i rows arrive whole, in order, with two compiled texts at most', (n) => {
    const db = openDb(path.join(mkdtempSync(path.join(tmpdir(), 'postern-rows-')), 'meta.db'));
    try {
      db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      const before = preparedCount(db);
      const rows = Array.from({ length: n }, (_, i) => [i, `v${i}`]);
      runRows(db, (v) => `INSERT INTO t (k, v) VALUES ${v}`, 2, rows);
      expect(db.prepare('SELECT k, v FROM t ORDER BY k').raw().all()).toEqual(rows);
      expect(preparedCount(db) - before).toBe((n >= 100 ? 1 : 0) + (n % 100 > 0 ? 1 : 0));
    } finally {
      db.close();
    }
  });

  it('writes tuples of the width asked for', () => {
    expect(tuples(2, 3)).toBe('(?, ?, ?), (?, ?, ?)');
  });
});

describe('transact runs a function in a transaction, as db.transaction(fn) does', () => {
  const open = (): Db => {
    const db = openDb(path.join(mkdtempSync(path.join(tmpdir(), 'postern-tx-')), 'meta.db'));
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY)');
    return db;
  };
  const keys = (db: Db): number[] => db.prepare('SELECT k FROM t ORDER BY k').pluck().all() as number[];
  const insert = (db: Db, k: number) => prepared(db, 'INSERT INTO t (k) VALUES (?)').run(k);
  /** A transaction that inserts k and then throws `message`. */
  const failing = (db: Db, mode: 'deferred' | 'immediate', k: number, message: string) => (): number =>
    transact(db, mode, () => {
      insert(db, k);
      throw new Error(message);
    });

  it('commits what the function wrote and returns its value; a throw rolls everything back', () => {
    const db = open();
    try {
      expect(transact(db, 'immediate', () => insert(db, 1).changes)).toBe(1);
      expect(db.inTransaction).toBe(false);
      expect(failing(db, 'deferred', 2, 'no')).toThrow('no');
      expect(db.inTransaction).toBe(false);
      expect(keys(db)).toEqual([1]);
    } finally {
      db.close();
    }
  });

  it('nests as a savepoint: an inner throw undoes the inner writes only', () => {
    const db = open();
    try {
      transact(db, 'immediate', () => {
        insert(db, 1);
        expect(failing(db, 'immediate', 2, 'inner')).toThrow('inner');
        expect(db.inTransaction).toBe(true);
        transact(db, 'deferred', () => insert(db, 3));
      });
      expect(keys(db)).toEqual([1, 3]);
    } finally {
      db.close();
    }
  });

  it('refuses a function that returns a promise, and leaves nothing of it', async () => {
    const db = open();
    try {
      expect(() =>
        transact(db, 'immediate', () => {
          insert(db, 1);
          return Promise.resolve(1);
        }),
      ).toThrow(/promise/);
      expect(keys(db)).toEqual([]);
    } finally {
      db.close();
    }
  });
});
