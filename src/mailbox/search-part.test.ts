import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpus, corpusNames } from '../codec/mime/testing/corpus.js';
import { FsBlobStore } from '../store/backends/fs/blobs.js';
import { openStore } from '../store/index.js';
import { SplitBlobStore } from '../store/split-blobs.js';
import { SqliteMetaStore } from '../store/backends/sqlite/index.js';
import type { IntegrityEvent } from '../store/types.js';
import { searchEntry } from './header-cache.js';
import { SEARCH_PART_DERIVER } from './search-part.js';

const KB = 1024;

describe('search parts derived by the blob store as it reads', () => {
  it('are those the event loop derives from the same bytes, for every corpus message and one with huge fields', async () => {
    const store = await FsBlobStore.open(mkdtempSync(path.join(tmpdir(), 'postern-parts-')));
    try {
      const messages = [...corpusNames().map((n) => corpus(n)), Buffer.from(`Subject: ${'x'.repeat(20_000)}\r\n\r\nbody\r\n`)];
      let none = 0;
      for (const bytes of messages) {
        const { id } = await store.put(bytes);
        const expected = searchEntry(id, bytes)?.search ?? null;
        if (expected === null) none++;
        expect([id, await store.getDerived(id, SEARCH_PART_DERIVER)]).toEqual([id, { derived: expected }]);
      }
      // Derived on the reader threads (not handed back as bytes), the part-less message included.
      expect(store.ioCounts.reads).toEqual({ clean: messages.length, raw: 0 });
      expect(none).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('are derived from rows kept in the database on the reader threads too, where rows are also read and verified; a damaged row is settled on the event loop', async () => {
    const s = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-parts-')), inlineBlobBytes: KB * 32 });
    if (!(s.meta instanceof SqliteMetaStore) || !(s.blobs instanceof SplitBlobStore)) throw new Error('not a SQLite store with split blobs');
    const db = s.meta.db;
    const threads = s.blobs.files as FsBlobStore;
    const events: IntegrityEvent[] = [];
    s.blobs.onIntegrity((e) => events.push(e));
    const rowCount = (id: string) => db.prepare('SELECT count(*) FROM blobs WHERE id = ?').pluck().get(id) as number;
    try {
      const messages = corpusNames().map((n) => corpus(n)).filter((m) => m.length <= 32 * KB);
      expect(messages.length).toBeGreaterThan(30);
      for (const bytes of messages) {
        const { id } = await s.blobs.put(bytes);
        expect(rowCount(id)).toBe(1);
        expect(Buffer.from(await s.blobs.get(id)).equals(bytes)).toBe(true);
        expect([id, await s.blobs.getDerived!(id, SEARCH_PART_DERIVER)]).toEqual([id, { derived: searchEntry(id, bytes)?.search ?? null }]);
        expect((await s.blobs.check(id)).ok).toBe(true);
      }
      // Each read was answered clean by a thread: the bytes, the part, the verdict.
      expect(threads.ioCounts.reads).toEqual({ clean: 3 * messages.length, raw: 0 });
      const { id } = await s.blobs.put(Buffer.from(`Subject: long\r\n\r\n${'y'.repeat(5000)}\r\n`));
      const bad = Buffer.from(await s.blobs.readContainer(id));
      bad[bad.length - 30]! ^= 0x04;
      db.prepare('UPDATE blobs SET container = ? WHERE id = ?').run(bad, id);
      expect(Buffer.from(await s.blobs.get(id)).equals(Buffer.from(`Subject: long\r\n\r\n${'y'.repeat(5000)}\r\n`))).toBe(true);
      expect(threads.ioCounts.reads.raw).toBe(1); // handed back raw, repaired and reported here
      expect(events).toEqual([expect.objectContaining({ kind: 'corrected', blobId: id })]);
    } finally {
      await s.close();
    }
  });

});
