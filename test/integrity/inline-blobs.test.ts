// Messages kept in the database ([store] inline_blob_kb) get the same care as
// blob files: the scrub finds and repairs a flipped bit in a row, and a backup
// restores every message, each where it was.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import { SqliteMetaStore } from '../../src/store/backends/sqlite/index.js';
import { scrub } from '../../src/integrity/scrub.js';
import { backup } from '../../src/integrity/backup.js';
import { restore } from '../../src/integrity/restore.js';
import { BLOB_HEADER_SIZE } from '../../src/crypto/blockcodec.js';

const INLINE = 32 * 1024;
const body = (n: number, size: number) => Buffer.from(`Subject: m${n}\r\n\r\n${`line ${n} of a message kept for the test\r\n`.repeat(Math.ceil(size / 40))}`);

async function filled(dataDir: string): Promise<{ store: Store; ids: string[]; sizes: Map<string, Buffer> }> {
  const store = await openStore({ backend: 'sqlite', dataDir, inlineBlobBytes: INLINE });
  const now = Date.now();
  await store.meta.directory.addDomain('example.test', now);
  const a = await store.meta.directory.addAccount({ address: 'u@example.test', passwordHash: 'x' }, now);
  const f = await store.meta.mailboxes.createFolder(a.id, 'INBOX', null, now);
  const sizes = new Map<string, Buffer>();
  const ids: string[] = [];
  // Three small messages (rows) and one larger than the limit (a file).
  for (const [n, size] of [[1, 2000], [2, 9000], [3, 30_000], [4, 60_000]] as const) {
    const data = body(n, size);
    const ref = await store.blobs.put(data);
    await store.meta.mailboxes.append(f.id, { blobId: ref.id, size: ref.size, internalDate: now });
    sizes.set(ref.id, data);
    ids.push(ref.id);
  }
  return { store, ids, sizes };
}

const db = (s: Store) => (s.meta as SqliteMetaStore).db;
const inDb = (s: Store, id: string) => db(s).prepare('SELECT count(*) FROM blobs WHERE id = ?').pluck().get(id) === 1;

describe('messages kept in the database', () => {
  it('are scrubbed: a flipped bit in a row is found, repaired and reported, two in one block are uncorrectable', async () => {
    const { store, ids, sizes } = await filled(mkdtempSync(path.join(tmpdir(), 'postern-inline-')));
    try {
      expect(ids.map((id) => inDb(store, id))).toEqual([true, true, true, false]);
      const container = (id: string) => Buffer.from(db(store).prepare('SELECT container FROM blobs WHERE id = ?').pluck().get(id) as Buffer);
      const one = container(ids[1]!);
      one[BLOB_HEADER_SIZE + 4096 + 77]! ^= 0x20; // the second block's data
      const two = container(ids[2]!);
      two[BLOB_HEADER_SIZE + 10]! ^= 0x41; // two bits in one block
      for (const [id, c] of [[ids[1]!, one], [ids[2]!, two]] as const) db(store).prepare('UPDATE blobs SET container = ? WHERE id = ?').run(c, id);

      const r = await scrub(store);
      expect(r.blobs).toBe(4);
      expect(r.corrected).toBe(1);
      expect(r.correctedBits).toBe(1);
      expect(r.uncorrectable.map((u) => u.id)).toEqual([ids[2]]);
      expect(r.missing).toEqual([]);
      expect(r.orphans).toEqual([]);
      expect(r.clean).toBe(false);
      // Repaired in place: the row reads back whole, and a second scrub finds only the uncorrectable one.
      expect(Buffer.from(await store.blobs.get(ids[1]!)).equals(sizes.get(ids[1]!)!)).toBe(true);
      const again = await scrub(store);
      expect(again.corrected).toBe(0);
      expect(again.uncorrectable.map((u) => u.id)).toEqual([ids[2]]);
      expect(await store.meta.integrity.isDamaged(ids[2]!)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('are backed up and restored, each message where it was, and read back exactly', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'postern-inline-'));
    const { store, ids, sizes } = await filled(path.join(root, 'data'));
    const dest = path.join(root, 'backup');
    try {
      const b = await backup(store, dest);
      expect(b.blobs).toBe(4);
    } finally {
      await store.close();
    }
    const target = path.join(root, 'restored');
    const rr = await restore(dest, target);
    expect(rr.blobs).toBe(4);
    expect(rr.unavailable).toEqual([]);
    const back = await openStore({ backend: 'sqlite', dataDir: target, inlineBlobBytes: INLINE });
    try {
      expect(ids.map((id) => inDb(back, id))).toEqual([true, true, true, false]);
      expect(existsSync(path.join(target, 'blobs', ids[3]!.slice(0, 2), ids[3]!))).toBe(true);
      for (const id of ids) expect(Buffer.from(await back.blobs.get(id)).equals(sizes.get(id)!)).toBe(true);
      expect((await scrub(back)).clean).toBe(true);
    } finally {
      await back.close();
    }
  });
});
