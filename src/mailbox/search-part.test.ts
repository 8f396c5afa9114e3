import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpus, corpusNames } from '../codec/mime/testing/corpus.js';
import { FsBlobStore } from '../store/backends/fs/blobs.js';
import { searchEntry } from './header-cache.js';
import { SEARCH_PART_DERIVER } from './search-part.js';

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
});
