import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SAFETY_PAGES, WalCheckpointer } from './checkpointer.js';
import { SqliteMetaStore } from './index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(): { store: SqliteMetaStore; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-ckpt-'));
  dirs.push(dir);
  const file = path.join(dir, 'meta.sqlite');
  return { store: SqliteMetaStore.open(file), file };
}

const pages = (db: SqliteMetaStore['db']): number => db.pragma('wal_autocheckpoint', { simple: true }) as number;
const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('WAL checkpoints in a thread', () => {
  it('keeps the WAL from growing while commits never reach the threshold that would checkpoint in them', async () => {
    const { store, file } = open();
    const db = store.db;
    db.exec('CREATE TABLE bulk (id INTEGER PRIMARY KEY, v BLOB)');
    expect(pages(db)).toBe(1000);
    store.checkpointInBackground();
    store.checkpointInBackground(); // a second call starts nothing more
    expect(pages(db)).toBe(SAFETY_PAGES);
    const insert = db.prepare('INSERT INTO bulk (v) VALUES (?)');
    const row = Buffer.alloc(3000, 7);
    // 12 rounds of ~400 pages: far past 1,000 pages in all, each round under the thread's eyes.
    let largest = 0;
    for (let round = 0; round < 12; round++) {
      db.transaction(() => {
        for (let i = 0; i < 400; i++) insert.run(row);
      })();
      largest = Math.max(largest, statSync(`${file}-wal`).size);
      const before = store.checkpoints!.runs;
      await until(() => store.checkpoints!.runs > before && store.checkpoints!.lastLog > 0 && store.checkpoints!.lastDone === store.checkpoints!.lastLog);
    }
    const stats = store.checkpoints!;
    expect(stats.lastError).toBeNull();
    expect(stats.runs).toBeGreaterThan(0);
    // The WAL restarts at its beginning once all was copied: it never holds more than about two rounds.
    expect(largest).toBeLessThan(2 * 420 * 4096);
    expect((db.prepare('SELECT COUNT(*) FROM bulk').pluck().get() as number)).toBe(4800);
    // Idle: no commits, no more checkpoints (nor messages to the event loop).
    const idle = stats.runs;
    await new Promise((r) => setTimeout(r, 300));
    expect(store.checkpoints!.runs).toBe(idle);
    await store.close();
    expect(store.checkpoints).toBeNull();
    const again = SqliteMetaStore.open(file);
    expect(again.db.prepare('SELECT COUNT(*) FROM bulk').pluck().get()).toBe(4800);
    expect(again.db.pragma('integrity_check', { simple: true })).toBe('ok');
    await again.close();
  });

  it('gives checkpoints back to the commits when the store closes, and none is started in memory', async () => {
    const { store, file } = open();
    store.checkpointInBackground();
    expect(pages(store.db)).toBe(SAFETY_PAGES);
    await store.close();
    const again = SqliteMetaStore.open(file);
    expect(pages(again.db)).toBe(1000);
    await again.close();
    const mem = new SqliteMetaStore(SqliteMetaStore.open(':memory:').db);
    mem.checkpointInBackground();
    expect(mem.checkpoints).toBeNull();
    await mem.close();
  });

  it('takes checkpoints out of the commits: past 1,000 pages a commit leaves the WAL whole', async () => {
    const walPages = async (withThread: boolean): Promise<number> => {
      const { store, file } = open();
      const db = store.db;
      db.exec('CREATE TABLE bulk (id INTEGER PRIMARY KEY, v BLOB)');
      // A thread that would not run within the test: only the commit-time threshold differs.
      const thread = withThread ? new WalCheckpointer(db, 600_000) : null;
      const insert = db.prepare('INSERT INTO bulk (v) VALUES (?)');
      for (let c = 0; c < 5; c++) {
        db.transaction(() => {
          for (let i = 0; i < 300; i++) insert.run(Buffer.alloc(3000, c));
        })();
      }
      const n = Math.floor(statSync(`${file}-wal`).size / 4096);
      await thread?.stop();
      expect(pages(db)).toBe(1000);
      await store.close();
      return n;
    };
    // SQLite alone checkpoints inside the commit that passes 1,000 pages, and the next commit starts the WAL over.
    expect(await walPages(false)).toBeLessThan(1400);
    expect(await walPages(true)).toBeGreaterThanOrEqual(1500);
  });
});
