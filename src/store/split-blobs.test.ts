import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import fs, { mkdtempSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from './index.js';
import { SqliteMetaStore } from './backends/sqlite/index.js';
import { walSyncOf } from './backends/sqlite/durability.js';
import { SplitBlobStore, mergeSorted } from './split-blobs.js';
import { contentDigest } from '../crypto/blockcodec.js';
import { newQueueId } from '../core/ids.js';
import type { IntegrityEvent, Store } from './types.js';

const KB = 1024;

async function open(inlineBlobBytes = 32 * KB, dataDir = mkdtempSync(path.join(tmpdir(), 'postern-split-'))) {
  const s = await openStore({ backend: 'sqlite', dataDir, inlineBlobBytes });
  if (!(s.meta instanceof SqliteMetaStore) || !(s.blobs instanceof SplitBlobStore)) throw new Error('not a SQLite store with split blobs');
  const events: IntegrityEvent[] = [];
  s.blobs.onIntegrity((e) => events.push(e));
  return { s, meta: s.meta, blobs: s.blobs, db: s.meta.db, dataDir, events };
}

const fileOf = (dataDir: string, id: string) => path.join(dataDir, 'blobs', id.slice(0, 2), id);
const rowCount = (s: Store, id: string) => (s.meta as SqliteMetaStore).db.prepare('SELECT count(*) FROM blobs WHERE id = ?').pluck().get(id) as number;
const message = (n: number, fill = 'x') => Buffer.from(`Subject: m${n}\r\n\r\n${fill.repeat(n)}\r\n`);

async function listed(s: Store): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of s.blobs.list()) ids.push(id);
  return ids;
}

describe('split blobs: small ones in the database, large ones as files', () => {
  it('keeps a blob up to the limit as a row and a larger one as a file, and reads both back', async () => {
    const { s, dataDir } = await open(4 * KB);
    try {
      const small = message(4 * KB - 40); // just under the limit
      const large = message(4 * KB + 1);
      const a = await s.blobs.put(small);
      const b = await s.blobs.put(large);
      expect(rowCount(s, a.id)).toBe(1);
      expect(existsSync(fileOf(dataDir, a.id))).toBe(false);
      expect(rowCount(s, b.id)).toBe(0);
      expect(existsSync(fileOf(dataDir, b.id))).toBe(true);
      expect(Buffer.from(await s.blobs.get(a.id)).equals(small)).toBe(true);
      expect(Buffer.from(await s.blobs.get(b.id)).equals(large)).toBe(true);
      expect(await s.blobs.has(a.id)).toBe(true);
      expect(await s.blobs.has(b.id)).toBe(true);
      expect(await listed(s)).toEqual([a.id, b.id].sort());
      expect((await s.blobs.check(a.id)).ok).toBe(true);
      // The row holds the same container a file would.
      const container = await s.blobs.readContainer(a.id);
      expect(await s.blobs.storedSize(a.id)).toBe(container.length);
    } finally {
      await s.close();
    }
  });

  it('resolves a put only after an fdatasync of the WAL that started once the row was visible', async () => {
    const { s, db } = await open();
    const seen: number[] = [];
    const id = contentDigest(message(10)).toString('hex');
    const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      seen.push(db.prepare('SELECT count(*) FROM blobs WHERE id = ?').pluck().get(id) as number);
      setTimeout(() => cb(null), 20);
    }) as typeof fs.fdatasync);
    try {
      const before = walSyncOf(db).syncs;
      await s.blobs.put(message(10));
      expect(seen).toEqual([1]);
      expect(walSyncOf(db).syncs).toBe(before + 1);
    } finally {
      spy.mockRestore();
      await s.close();
    }
  });

  it('takes no sync of its own for a put the caller\'s commit covers: one sync for blob and queue entry', async () => {
    const { s, meta, db, dataDir } = await open();
    try {
      const wal = walSyncOf(db);
      const before = wal.syncs;
      const blob = await s.blobs.put(message(11), { syncedByCommit: true });
      expect(wal.syncs).toBe(before);
      await meta.queue.enqueue(
        { id: newQueueId(), blobId: blob.id, size: blob.size, sender: '', receivedAt: 1, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} },
        [{ address: 'r@remote.test', transport: 'remote' }],
      );
      expect(wal.syncs).toBe(before + 1);
      // A blob that must be removable whole is a file, whatever its size.
      const removable = await s.blobs.put(message(12), { syncedByCommit: true, asFile: true });
      expect(rowCount(s, removable.id)).toBe(0);
      expect(existsSync(fileOf(dataDir, removable.id))).toBe(true);
      // A large blob is a file, synced by its own put whatever the caller says.
      const big = await s.blobs.put(message(40 * KB), { syncedByCommit: true });
      expect(rowCount(s, big.id)).toBe(0);
      expect(wal.syncs).toBe(before + 1);
    } finally {
      await s.close();
    }
  });

  it('finds and repairs a flipped bit in a row read from the database file, and reports it', async () => {
    const first = await open();
    const data = message(3000, 'q');
    const { id } = await first.s.blobs.put(data);
    const original = Buffer.from(await first.s.blobs.readContainer(id));
    await first.s.close(); // the last connection folds the WAL into the database file
    const file = path.join(first.dataDir, 'meta.sqlite');
    const bytes = readFileSync(file);
    // A run of the body's bytes locates the container in the file's pages.
    const at = bytes.indexOf(Buffer.from('q'.repeat(64)));
    expect(at).toBeGreaterThan(0);
    bytes[at + 100]! ^= 0x08;
    writeFileSync(file, bytes);

    const again = await open(32 * KB, first.dataDir);
    try {
      expect(Buffer.from(await again.s.blobs.get(id)).equals(data)).toBe(true);
      expect(again.events).toEqual([expect.objectContaining({ kind: 'corrected', blobId: id, area: 'data' })]);
      // Written back: the row is whole again, and the next read finds nothing.
      expect(Buffer.from(await again.s.blobs.readContainer(id)).equals(original)).toBe(true);
      expect((await again.s.blobs.check(id)).corrections).toEqual([]);
    } finally {
      await again.s.close();
    }
  });

  it('withholds a row damaged beyond repair, reports it, and a put of the same bytes replaces it', async () => {
    const { s, db, events } = await open();
    try {
      const data = message(200);
      const { id } = await s.blobs.put(data);
      const bad = Buffer.from(await s.blobs.readContainer(id));
      bad[bad.length - 20]! ^= 0x11; // two bits in one block
      db.prepare('UPDATE blobs SET container = ? WHERE id = ?').run(bad, id);
      await expect(s.blobs.get(id)).rejects.toMatchObject({ code: 'INTEGRITY' });
      expect((await s.blobs.check(id)).ok).toBe(false);
      expect(events.map((e) => e.kind)).toEqual(['uncorrectable', 'uncorrectable']);
      await s.blobs.put(data);
      expect(Buffer.from(await s.blobs.get(id)).equals(data)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('collects an unreferenced row written before the cut-off, and keeps referenced and younger ones', async () => {
    const { s, meta } = await open();
    try {
      const old = await s.blobs.put(message(1));
      const used = await s.blobs.put(message(2));
      await meta.queue.enqueue(
        { id: newQueueId(), blobId: used.id, size: used.size, sender: '', receivedAt: 1, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} },
        [{ address: 'r@remote.test', transport: 'remote' }],
      );
      const cut = Date.now() + 1;
      await new Promise((r) => setTimeout(r, 5));
      const young = await s.blobs.put(message(3));
      const ids = [old.id, used.id, young.id];
      const dry = await s.blobs.collectGarbage(ids, cut, async () => true, true);
      expect(dry.deleted).toEqual([old.id]);
      expect(rowCount(s, old.id)).toBe(1);
      const done = await s.blobs.collectGarbage(ids, cut, async () => true);
      expect(done).toEqual({ deleted: [old.id], bytes: dry.bytes });
      expect(await s.blobs.has(old.id)).toBe(false);
      expect(await s.blobs.has(used.id)).toBe(true);
      expect(await s.blobs.has(young.id)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('leaves no copy of a deleted or collected row in the database file (freed pages are zeroed)', async () => {
    const phrase = (tag: string) => Buffer.from(`${tag}-the-phrase-that-must-go-`.repeat(40));
    const first = await open();
    const gone = await first.s.blobs.put(Buffer.concat([Buffer.from('Subject: a\r\n\r\n'), phrase('deleted')]));
    const collected = await first.s.blobs.put(Buffer.concat([Buffer.from('Subject: b\r\n\r\n'), phrase('collected')]));
    const kept = await first.s.blobs.put(Buffer.concat([Buffer.from('Subject: c\r\n\r\n'), phrase('kept')]));
    await first.s.close();
    const file = path.join(first.dataDir, 'meta.sqlite');
    for (const tag of ['deleted', 'collected', 'kept']) expect(readFileSync(file).includes(phrase(tag))).toBe(true);
    const again = await open(32 * KB, first.dataDir);
    await again.s.blobs.delete(gone.id);
    expect((await again.s.blobs.collectGarbage([collected.id], Date.now() + 1, async () => true)).deleted).toEqual([collected.id]);
    await again.s.close();
    const after = readFileSync(file);
    expect(after.includes(phrase('deleted'))).toBe(false);
    expect(after.includes(phrase('collected'))).toBe(false);
    expect(after.includes(phrase('kept'))).toBe(true);
    expect(kept.size).toBeGreaterThan(0);
  });

  it('keeps blobs readable where an earlier limit put them: 0 stores new ones as files', async () => {
    const first = await open(32 * KB);
    const inDb = await first.s.blobs.put(message(100));
    await first.s.close();
    const { s, dataDir } = await open(0, first.dataDir);
    try {
      const asFile = await s.blobs.put(message(101));
      expect(existsSync(fileOf(dataDir, asFile.id))).toBe(true);
      expect(rowCount(s, asFile.id)).toBe(0);
      expect(Buffer.from(await s.blobs.get(inDb.id)).equals(message(100))).toBe(true);
      expect(await listed(s)).toEqual([inDb.id, asFile.id].sort());
      // Restoring a container goes back where the blob already is.
      const container = await s.blobs.readContainer(inDb.id);
      await s.blobs.delete(inDb.id);
      expect(await s.blobs.has(inDb.id)).toBe(false);
      await s.blobs.writeContainer(inDb.id, container);
      expect(existsSync(fileOf(dataDir, inDb.id))).toBe(true); // limit 0: a file now
      expect(Buffer.from(await s.blobs.get(inDb.id)).equals(message(100))).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('mergeSorted', () => {
  async function* gen(xs: string[]) {
    for (const x of xs) yield x;
  }

  it('gives the union of two ascending lists, ascending, each id once', async () => {
    const ids = fc.uniqueArray(fc.stringMatching(/^[0-9a-f]{1,4}$/), { maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(ids, ids, async (a, b) => {
        const out: string[] = [];
        for await (const x of mergeSorted(gen([...a].sort()), gen([...b].sort()))) out.push(x);
        expect(out).toEqual([...new Set([...a, ...b])].sort());
      }),
    );
  });
});
