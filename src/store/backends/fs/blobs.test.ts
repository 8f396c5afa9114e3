import { describe, it, expect, beforeEach } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FsBlobStore } from './blobs.js';
import type { IntegrityEvent } from '../../types.js';
import { BLOB_HEADER_SIZE } from '../../../crypto/blockcodec.js';

describe('file blob store integrity', () => {
  let store: FsBlobStore;
  let events: IntegrityEvent[];
  beforeEach(async () => {
    store = await FsBlobStore.open(mkdtempSync(path.join(tmpdir(), 'postern-blobs-')));
    events = [];
    store.onIntegrity((e) => events.push(e));
  });

  const flip = (file: string, byte: number, bit: number) => {
    const b = readFileSync(file);
    b[byte]! ^= 1 << bit;
    writeFileSync(file, b);
  };

  it('repairs a flipped bit on read, writes the repair back and reports it', async () => {
    const data = randomBytes(20_000);
    const { id } = await store.put(data);
    const file = store.pathOf(id);
    const good = readFileSync(file);
    flip(file, BLOB_HEADER_SIZE + 5000, 3);
    expect(Buffer.from(await store.get(id)).equals(data)).toBe(true);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'corrected', blobId: id, area: 'data' });
    expect(readFileSync(file).equals(good)).toBe(true);
    // The second read finds nothing to repair.
    await store.get(id);
    expect(events).toHaveLength(1);
  });

  it('never returns bytes damaged beyond repair', async () => {
    const data = randomBytes(9000);
    const { id } = await store.put(data);
    const file = store.pathOf(id);
    flip(file, BLOB_HEADER_SIZE + 100, 1);
    flip(file, BLOB_HEADER_SIZE + 900, 6);
    await expect(store.get(id)).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(events.map((e) => e.kind)).toEqual(['uncorrectable']);
    expect((await store.check(id)).ok).toBe(false);
  });

  it('reports truncated and missing blobs', async () => {
    const { id } = await store.put(randomBytes(10_000));
    const file = store.pathOf(id);
    writeFileSync(file, readFileSync(file).subarray(0, 5000));
    await expect(store.get(id)).rejects.toMatchObject({ code: 'INTEGRITY' });
    rmSync(file);
    await expect(store.get(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(events.map((e) => e.kind)).toEqual(['uncorrectable', 'missing']);
  });

  it('replaces a damaged copy when the same bytes are stored again', async () => {
    const data = randomBytes(5000);
    const { id } = await store.put(data);
    writeFileSync(store.pathOf(id), Buffer.from('garbage'));
    await store.put(data);
    expect(Buffer.from(await store.get(id)).equals(data)).toBe(true);
  });
});
