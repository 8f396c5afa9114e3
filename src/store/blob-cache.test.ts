import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobCache, cachingBlobs } from './blob-cache.js';
import { FsBlobStore } from './backends/fs/blobs.js';
import type { BlobStore } from './types.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('BlobCache', () => {
  it('hands out copies, keeps copies, and evicts the least recently used past its limit', () => {
    const c = new BlobCache(1600);
    const a = Buffer.alloc(100, 0x61);
    c.keep('a', a);
    a.fill(0x7a); // the caller's buffer changes: the cached bytes do not
    const got = c.take('a')!;
    expect(Buffer.from(got).toString()).toBe('a'.repeat(100));
    got.fill(0x7a); // nor does a reader's change reach them
    expect(Buffer.from(c.take('a')!).toString()).toBe('a'.repeat(100));

    for (const id of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p']) c.keep(id, Buffer.alloc(100));
    expect(c.bytes).toBe(1600);
    c.take('a'); // used: 'b' is now the oldest
    c.keep('q', Buffer.alloc(100));
    expect(c.bytes).toBe(1600);
    expect(c.take('b')).toBeNull();
    expect(c.take('a')).not.toBeNull();
    expect(c.take('q')).not.toBeNull();
  });

  it('never keeps a blob larger than a sixteenth of the cache', () => {
    const c = new BlobCache(1600);
    c.keep('big', Buffer.alloc(101));
    expect(c.size).toBe(0);
    c.keep('fits', Buffer.alloc(100));
    expect(c.size).toBe(1);
  });

  it('drops an entry, and keeping the same id twice counts its bytes once', () => {
    const c = new BlobCache(16_000);
    c.keep('x', Buffer.alloc(10));
    c.keep('x', Buffer.alloc(10));
    expect(c.bytes).toBe(10);
    c.drop('x');
    expect([c.bytes, c.size, c.take('x')]).toEqual([0, 0, null]);
  });
});

describe('cachingBlobs over the file store', () => {
  let dir = '';
  let store: BlobStore | null = null;
  afterEach(async () => {
    await store?.close();
    store = null;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function open(limit: number): Promise<{ inner: FsBlobStore; blobs: BlobStore & { cache?: BlobCache } }> {
    dir = await mkdtemp(path.join(os.tmpdir(), 'postern-blob-cache-'));
    const inner = await FsBlobStore.open(path.join(dir, 'blobs'));
    const blobs = cachingBlobs(inner, limit) as BlobStore & { cache?: BlobCache };
    store = blobs;
    return { inner, blobs };
  }

  it('serves what put wrote without reading the disk, and reads the disk once for the rest', async () => {
    const { inner, blobs } = await open(1 << 20);
    const ref = await blobs.put(bytes('Subject: cached\r\n\r\nbody\r\n'));
    // The file on disk is destroyed: a read that went to it would fail its integrity check.
    const file = inner.pathOf(ref.id);
    await writeFile(file, Buffer.alloc((await readFile(file)).length));
    expect(Buffer.from(await blobs.get(ref.id)).toString()).toBe('Subject: cached\r\n\r\nbody\r\n');
    expect(blobs.cache!.hits).toBe(1);
    // The scrubber still reads the disk, and finds the damage.
    expect((await blobs.check(ref.id)).ok).toBe(false);

    const other = await inner.put(bytes('Subject: not cached\r\n\r\nx\r\n'));
    expect(Buffer.from(await blobs.get(other.id)).toString()).toContain('not cached');
    expect(Buffer.from(await blobs.get(other.id)).toString()).toContain('not cached');
    expect([blobs.cache!.hits, blobs.cache!.misses]).toEqual([2, 1]);
  });

  it('forgets a deleted or collected blob at once', async () => {
    const { blobs } = await open(1 << 20);
    const a = await blobs.put(bytes('Subject: a\r\n\r\nshredded\r\n'));
    await blobs.delete(a.id);
    expect(blobs.cache!.size).toBe(0);
    await expect(blobs.get(a.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const b = await blobs.put(bytes('Subject: b\r\n\r\ncollected\r\n'));
    const kept = await blobs.put(bytes('Subject: c\r\n\r\nkept\r\n'));
    const dry = await blobs.collectGarbage([b.id], Date.now() + 60_000, async () => true, true);
    expect(dry.deleted).toEqual([b.id]);
    expect(blobs.cache!.size).toBe(2); // a dry run deletes nothing
    await blobs.collectGarbage([b.id], Date.now() + 60_000, async () => true);
    expect(blobs.cache!.size).toBe(1);
    await expect(blobs.get(b.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(Buffer.from(await blobs.get(kept.id)).toString()).toContain('kept');
  });

  it('is the store itself when the limit is 0', async () => {
    const { inner, blobs } = await open(0);
    expect(blobs).toBe(inner);
  });
});
