import { describe, expect, it, vi } from 'vitest';
import fs, { mkdtempSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runStoreContract } from '../../contract.js';
import { openStore } from '../../index.js';
import { SqliteMetaStore } from './index.js';
import { walSyncOf } from './durability.js';

runStoreContract('sqlite + fs blobs', () => openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-store-')) }), async (s, statement) => {
  if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not a SQLite store');
  s.meta.db.exec(statement);
});

// The same with small blobs kept in the database (the server's default): the contract's large blobs are still files.
runStoreContract('sqlite + inline blobs', () => openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-store-')), inlineBlobBytes: 32 * 1024 }), async (s, statement) => {
  if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not a SQLite store');
  s.meta.db.exec(statement);
});

describe('sqlite durability: the WAL is synced in the thread pool, grouped', () => {
  const open = async () => {
    const s = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-store-')) });
    if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not a SQLite store');
    return { s, meta: s.meta, wal: walSyncOf(s.meta.db) };
  };
  const msg = (id: string, blobId: string) => ({ id, blobId, size: 10, sender: 's@x.test', receivedAt: 1000, source: 'mx' as const, clientAddress: '127.0.0.1', authUser: null, meta: {} });

  it('resolves a durable write only after an fdatasync that started once its commit was visible', async () => {
    const { s, meta, wal } = await open();
    const seen: number[] = [];
    const reader = new Database(meta.db.name, { readonly: true });
    const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      // At the moment the flush starts, another connection already sees the row.
      seen.push(reader.prepare("SELECT count(*) FROM queue_messages WHERE id = 'q-d1'").pluck().get() as number);
      setTimeout(() => cb(null), 20);
    }) as typeof fs.fdatasync);
    try {
      const blob = await s.blobs.put(Buffer.from('Subject: s\r\n\r\nbody\r\n'));
      let resolved = false;
      const p = meta.queue.enqueue(msg('q-d1', blob.id), [{ address: 'r@remote.test', transport: 'remote' }]).then(() => (resolved = true));
      await new Promise((r) => setTimeout(r, 5));
      expect(resolved).toBe(false); // still waiting for the disk
      await p;
      expect(seen).toEqual([1]);
      expect(wal.syncs).toBe(1);
    } finally {
      spy.mockRestore();
      reader.close();
      await s.close();
    }
  });

  it('serves many concurrent writers with a few syncs, and lazy writes (leases, purges, events) with none', async () => {
    const { s, meta, wal } = await open();
    try {
      const blob = await s.blobs.put(Buffer.from('Subject: s\r\n\r\nbody\r\n'));
      const before = wal.syncs;
      await Promise.all(Array.from({ length: 20 }, (_, i) => meta.queue.enqueue(msg(`q-g${i}`, blob.id), [{ address: 'r@remote.test', transport: 'remote' }])));
      const forTwenty = wal.syncs - before;
      expect(forTwenty).toBeGreaterThanOrEqual(1);
      expect(forTwenty).toBeLessThanOrEqual(2);

      const afterEnqueue = wal.syncs;
      const leases = await meta.queue.lease({ transport: 'remote', now: 2000, leaseMs: 1000, limit: 1 });
      await meta.events.record('smtp.session', 'c1', { n: 1 }, 4000);
      await meta.events.recordMany([{ at: 4001, kind: 'smtp.session', subject: 'c2', data: {} }]);
      expect(wal.syncs).toBe(afterEnqueue);
      expect(leases).toHaveLength(1);

      await meta.queue.complete(leases[0]!, 2001); // mail state: synced
      expect(wal.syncs).toBe(afterEnqueue + 1);
      expect(await meta.queue.purgeFinished()).toBe(1);
      expect(await meta.queue.leaseScan({ now: 3000, leaseMs: 1000, limit: 10 })).toEqual([]);
      expect((await meta.events.list('smtp.session')).map((e) => e.subject)).toEqual(['c2', 'c1']);
      expect(wal.syncs).toBe(afterEnqueue + 1); // reads and lazy writes: none
      expect(meta.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL: no fsync on the event loop
    } finally {
      await s.close();
    }
  });

  it('stores a scan result without a sync; the delivery after it is synced, and the collector syncs before it reads references', async () => {
    const { s, meta, wal } = await open();
    try {
      await meta.directory.addDomain('x.test', 1000);
      const account = await meta.directory.addAccount({ address: 'u@x.test', passwordHash: 'x', roles: ['user'] }, 1000);
      const folder = await meta.mailboxes.createFolder(account.id, 'INBOX', null, 1000);
      const blob = await s.blobs.put(Buffer.from('Subject: s\r\n\r\nbody\r\n'));
      await meta.queue.enqueue({ ...msg('q-s1', blob.id), route: 'scan' }, [{ address: 'u@x.test', transport: 'local', accountId: account.id }]);
      const [scan] = await meta.queue.leaseScan({ now: 2000, leaseMs: 1000, limit: 1 });
      const before = wal.syncs;
      expect(await meta.queue.finishScanMany([{ lease: scan!, outcome: { verdicts: [], next: 'deliver', now: 2001 } }])).toEqual([true]);
      expect(wal.syncs).toBe(before); // a lost result is scanned again
      const [lease] = await meta.queue.lease({ transport: 'local', now: 2002, leaseMs: 1000, limit: 1 });
      expect(await meta.queue.deliverLocalMany([{ lease: lease!, folderId: folder.id, now: 2003 }])).toEqual([{ uid: 1 }]);
      expect(wal.syncs).toBe(before + 1); // the delivery's sync, which covers the scan result before it

      await meta.queue.purgeFinished(); // drops the queue's reference to the blob, unsynced
      const beforeGc = wal.syncs;
      expect(await meta.integrity.referencedBlobs()).toEqual([blob.id]); // still the message's
      expect(wal.syncs).toBe(beforeGc + 1);
    } finally {
      await s.close();
    }
  });
});

describe('sqlite header cache: search parts written a hundred rows to a statement', () => {
  it('fills each message its part was derived for, refreshes only per-blob rows that exist (none when told there is none), and skips a message whose blob changed', async () => {
    const s = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-store-')) });
    if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not a SQLite store');
    const { meta } = s;
    try {
      await meta.directory.addDomain('x.test', 1000);
      const account = await meta.directory.addAccount({ address: 'u@x.test', passwordHash: 'x', roles: ['user'] }, 1000);
      const folder = await meta.mailboxes.createFolder(account.id, 'INBOX', null, 1000);
      // 250 messages: two full statements of a hundred and fifty rows one at a time.
      const ids = Array.from({ length: 250 }, (_, i) => i.toString(16).padStart(64, '0'));
      for (const blobId of ids) await meta.mailboxes.append(folder.id, { blobId, size: 10, internalDate: 1000, flags: [] });
      // Two blobs already have a per-blob row (an entry rebuilt after failing its check refreshes it).
      await meta.mailboxes.putHeaderCache([ids[7]!, ids[180]!].map((blobId) => ({ blobId, search: 'old', detail: null })));
      const rows = await meta.mailboxes.searchHeaderCache(folder.id, 1, 250, null);
      expect(rows.filter((r) => r.search === 'old').map((r) => r.uid)).toEqual([8, 181]);

      // Derived for each message (uid k+1 holds ids[k]); message 250 is told the wrong blob and must not take it.
      const entries = ids.map((blobId, k) => ({ blobId: k === 249 ? ids[0]! : blobId, search: `part ${k}`, detail: null, message: { folderId: folder.id, uid: k + 1 } }));
      await meta.mailboxes.putHeaderCache(entries);
      const after = await meta.mailboxes.searchHeaderCache(folder.id, 1, 250, null);
      expect(after.slice(0, 249).map((r) => r.search)).toEqual(ids.slice(0, 249).map((_, k) => `part ${k}`));
      expect(after[249]!.search).toBeNull();
      const perBlob = meta.db.prepare('SELECT blob_id, search FROM header_cache ORDER BY blob_id').all();
      expect(perBlob).toEqual([
        { blob_id: ids[7], search: 'part 7' },
        { blob_id: ids[180], search: 'part 180' },
      ]);
      expect(meta.db.prepare('SELECT count(*) FROM message_search').pluck().get()).toBe(249);

      // Marked as having found no per-blob entry (a first SEARCH's): the message rows are written, no per-blob row is looked at.
      const fresh = ids.slice(0, 249).map((blobId, k) => ({ blobId, search: `fresh ${k}`, detail: null, message: { folderId: folder.id, uid: k + 1, noBlobEntry: true } }));
      await meta.mailboxes.putHeaderCache(fresh);
      const third = await meta.mailboxes.searchHeaderCache(folder.id, 1, 249, null);
      expect(third.map((r) => r.search)).toEqual(fresh.map((e) => e.search));
      expect(meta.db.prepare('SELECT blob_id, search FROM header_cache ORDER BY blob_id').all()).toEqual(perBlob);
    } finally {
      await s.close();
    }
  });
});

describe('sqlite changesSince: one answer shared by the sessions that ask for the same changes', () => {
  it('hands back the same answer while the folder is unchanged, and a fresh one after a write from this or another connection', async () => {
    const s = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-store-')) });
    if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not a SQLite store');
    const { meta } = s;
    const other = new Database(meta.db.name);
    try {
      await meta.directory.addDomain('x.test', 1000);
      const account = await meta.directory.addAccount({ address: 'u@x.test', passwordHash: 'x', roles: ['user'] }, 1000);
      const folder = await meta.mailboxes.createFolder(account.id, 'INBOX', null, 1000);
      const since = (await meta.mailboxes.getFolderById(folder.id))!.highestModseq;
      for (const k of [1, 2, 3]) await meta.mailboxes.append(folder.id, { blobId: k.toString(16).padStart(64, '0'), size: 10, internalDate: 1000, flags: [] });

      const first = await meta.mailboxes.changesSince(folder.id, since);
      expect(first.changed.map((m) => m.uid)).toEqual([1, 2, 3]);
      expect(await meta.mailboxes.changesSince(folder.id, since)).toBe(first); // the second session's ask
      expect((await meta.mailboxes.changesSince(folder.id, since + 1)).changed.map((m) => m.uid)).toEqual([2, 3]);

      // A flag change (this connection) and an expunge: each answered afresh.
      await meta.mailboxes.storeFlags(folder.id, { uids: [2], op: 'add', flags: ['\\Seen'] });
      const afterStore = await meta.mailboxes.changesSince(folder.id, since);
      expect(afterStore).not.toBe(first);
      expect(afterStore.changed.find((m) => m.uid === 2)!.flags).toEqual(['\\Seen']);
      await meta.mailboxes.expunge(folder.id, [1]);
      const afterExpunge = await meta.mailboxes.changesSince(folder.id, since);
      expect(afterExpunge.changed.map((m) => m.uid)).toEqual([2, 3]);
      expect(afterExpunge.expunged).toEqual([1]);

      // Another process's write (here a second connection) raises the folder's modseq too.
      const cached = await meta.mailboxes.changesSince(folder.id, since);
      expect(await meta.mailboxes.changesSince(folder.id, since)).toBe(cached);
      other.prepare("UPDATE messages SET flags = '\\Flagged', modseq = (SELECT highest_modseq + 1 FROM folders WHERE id = ?) WHERE folder_id = ? AND uid = 3").run(folder.id, folder.id);
      other.prepare('UPDATE folders SET highest_modseq = highest_modseq + 1 WHERE id = ?').run(folder.id);
      const seen = await meta.mailboxes.changesSince(folder.id, since);
      expect(seen.changed.find((m) => m.uid === 3)!.flags).toEqual(['\\Flagged']);

      await meta.mailboxes.deleteFolder(folder.id);
      await expect(meta.mailboxes.changesSince(folder.id, since)).rejects.toThrow(/no folder/);
    } finally {
      other.close();
      await s.close();
    }
  });
});

describe('sqlite header cache: bytes shared by many messages', () => {
  it('writes a per-blob part to the messages lacking it or holding another, and nothing when the row already held it', async () => {
    const s = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-store-')) });
    if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not a SQLite store');
    const { meta } = s;
    const changes = (): number => meta.db.prepare('SELECT total_changes()').pluck().get() as number;
    const parts = (): string[] => meta.db.prepare('SELECT s.search FROM messages m LEFT JOIN message_search s ON s.message_id = m.id ORDER BY m.id').pluck().all() as string[];
    try {
      await meta.directory.addDomain('x.test', 1000);
      const account = await meta.directory.addAccount({ address: 'u@x.test', passwordHash: 'x', roles: ['user'] }, 1000);
      const folder = await meta.mailboxes.createFolder(account.id, 'INBOX', null, 1000);
      const blobId = 'ab'.repeat(32);
      const put = (search: string): Promise<void> => meta.mailboxes.putHeaderCache([{ blobId, search, detail: null }]);
      // Fifty copies before the blob has a row: the first put gives each its part.
      for (let i = 0; i < 50; i++) await meta.mailboxes.append(folder.id, { blobId, size: 10, internalDate: 1000, flags: [] });
      await put('one');
      expect(parts()).toEqual(Array(50).fill('one'));
      // Fifty more, as APPENDs of the same bytes: each takes the part as it is appended, and each
      // APPEND's put of the same part writes the blob's row alone (it rewrote every copy's before).
      for (let i = 0; i < 50; i++) {
        await meta.mailboxes.append(folder.id, { blobId, size: 10, internalDate: 1000, flags: [] });
        const before = changes();
        await put('one');
        expect(changes() - before).toBe(1);
      }
      expect(parts()).toEqual(Array(100).fill('one'));
      // A copy lost its row and another holds a part derived for it alone: a different
      // part for the blob reaches all of them, and writes only the rows that differ.
      meta.db.prepare('DELETE FROM message_search WHERE message_id = (SELECT min(id) FROM messages)').run();
      const second = (meta.db.prepare('SELECT id FROM messages ORDER BY id LIMIT 1 OFFSET 1').pluck().get() as number);
      meta.db.prepare('UPDATE message_search SET search = ? WHERE message_id = ?').run('two', second);
      const before = changes();
      await put('two');
      expect(changes() - before).toBe(1 + 99);
      expect(parts()).toEqual(Array(100).fill('two'));
    } finally {
      await s.close();
    }
  });
});
