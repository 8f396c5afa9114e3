/**
 * A damaged SQLite page in the metadata: the scrub's metadata check reports
 * it (quick and full), records it as an event and carries on verifying the
 * blobs, without crashing.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, openSync, readSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../../src/store/index.js';
import { scrub } from '../../src/integrity/index.js';
import { fillStore, openTestStore, seededRng, tempDir, testSeed } from './helpers.js';

const PAGE = 4096;

describe('metadata damage', () => {
  it('finds a damaged page in a copy of meta.sqlite, reports it as an event, and does not crash', async () => {
    const { store, dir } = await openTestStore();
    const msgs = await fillStore(store, 20, seededRng(testSeed()));
    // Enough rows that the middle of the file is message table and index pages.
    for (let i = 0; i < 600; i++) await store.meta.mailboxes.append(msgs[0]!.folderId, { blobId: msgs[i % 20]!.blobId, size: 10, internalDate: i });
    expect(await store.meta.integrity.checkMetadata('full')).toEqual([]);
    await store.close(); // checkpoints the WAL into meta.sqlite

    const copy = tempDir('meta-copy');
    cpSync(dir, copy, { recursive: true });
    const file = path.join(copy, 'meta.sqlite');
    expect(statSync(file).size / PAGE).toBeGreaterThan(20);
    // A leaf page of the message table (dbstat numbers pages from 1), never the schema's own pages,
    // which would stop the database from opening at all (the next test covers that).
    const look = new Database(file, { readonly: true });
    const leaves = look.prepare("SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf' ORDER BY pageno").all() as { pageno: number }[];
    look.close();
    expect(leaves.length).toBeGreaterThan(2);
    const page = leaves[Math.floor(leaves.length / 2)]!.pageno - 1;
    const fd = openSync(file, 'r+');
    try {
      const before = Buffer.alloc(200);
      readSync(fd, before, 0, 200, page * PAGE);
      const junk = Buffer.alloc(200, 0xa7);
      expect(junk.equals(before)).toBe(false);
      writeSync(fd, junk, 0, 200, page * PAGE); // the page's b-tree header and cell pointers
    } finally {
      closeSync(fd);
    }

    const damaged = await openStore({ backend: 'sqlite', dataDir: copy });
    try {
      const quick = await damaged.meta.integrity.checkMetadata('quick');
      expect(quick.length).toBeGreaterThan(0);
      const r = await scrub(damaged, { metadata: 'full' });
      expect(r.metadata.ok).toBe(false);
      expect(r.metadata.problems.join('\n')).toMatch(/page|malformed|corrupt|missing/i);
      expect(r.clean).toBe(false);
      expect(r.blobs).toBe(20); // the blobs were still verified
      const [ev] = await damaged.meta.events.list('integrity.metadata_damaged', 1);
      expect(ev?.data).toMatchObject({ mode: 'full' });
      expect((ev?.data.problems as string[]).length).toBeGreaterThan(0);
    } finally {
      await damaged.close();
      rmSync(copy, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a metadata file that is not a database at all', async () => {
    const { store, dir } = await openTestStore();
    await store.close();
    const { inspectMetaFile } = await import('../../src/store/backends/sqlite/index.js');
    const bogus = path.join(dir, 'blobs');
    const r = inspectMetaFile(bogus);
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.referencedBlobs).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});
