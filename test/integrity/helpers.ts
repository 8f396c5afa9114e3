/**
 * Shared fixtures for the integrity tests: a seeded random source (so a
 * failing fault-injection run can be replayed), a store filled with
 * messages, and bit flips in the on-disk blob files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import { BLOB_HEADER_SIZE, DEFAULT_BLOCK_SIZE } from '../../src/crypto/blockcodec.js';
import { LAYOUT_FILE, blobFileIn } from '../../src/store/backends/fs/blobs.js';

/** mulberry32: a small, seeded PRNG; tests print the seed so a failure can be replayed. */
export function seededRng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    bytes: (n: number) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
    /** k distinct values from 0..n-1. */
    pick: (n: number, k: number) => {
      const all = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [all[i], all[j]] = [all[j]!, all[i]!];
      }
      return all.slice(0, k);
    },
  };
}
export type Rng = ReturnType<typeof seededRng>;

/** The seed of this run: INTEGRITY_SEED replays a failure. */
export function testSeed(): number {
  const fromEnv = Number(process.env.INTEGRITY_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 0x5eed + new Date().getUTCDate();
}

const made: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `postern-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes every folder tempDir made in this test file. */
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function openTestStore(dataDir = tempDir('integrity')): Promise<{ store: Store; dir: string }> {
  return { store: await openStore({ backend: 'sqlite', dataDir }), dir: dataDir };
}

/** Where the file blob store keeps a blob under a data folder: ab/<id>, or ab/cd/<id> in a store without a layout file. */
export function blobFile(dataDir: string, id: string): string {
  const root = path.join(dataDir, 'blobs');
  return blobFileIn(path.join(root, path.sep), existsSync(path.join(root, LAYOUT_FILE)) ? 1 : 2, id);
}

export interface StoredMessage {
  blobId: string;
  data: Buffer;
  folderId: number;
  uid: number;
}

/** Stores `n` messages of 1 to 40 KB in alice's INBOX through the store API. */
export async function fillStore(store: Store, n: number, rng: Rng): Promise<StoredMessage[]> {
  const d = store.meta.directory;
  if (!(await d.hasDomain('example.org'))) await d.addDomain('example.org', 1);
  const acct = (await d.getAccount('alice@example.org')) ?? (await d.addAccount({ address: 'alice@example.org', passwordHash: '$x' }, 1));
  const folder = (await store.meta.mailboxes.getFolder(acct.id, 'INBOX')) ?? (await store.meta.mailboxes.createFolder(acct.id, 'INBOX', null, 1));
  const out: StoredMessage[] = [];
  for (let i = 0; i < n; i++) {
    const body = rng.bytes(1000 + rng.int(40_000));
    const data = Buffer.concat([Buffer.from(`Subject: message ${i}\r\n\r\n`), body]);
    const ref = await store.blobs.put(data);
    const m = await store.meta.mailboxes.append(folder.id, { blobId: ref.id, size: ref.size, internalDate: i });
    out.push({ blobId: ref.id, data, folderId: folder.id, uid: m.uid });
  }
  return out;
}

export function flipBit(file: string, bit: number): void {
  const b = readFileSync(file);
  b[bit >>> 3]! ^= 1 << (bit & 7);
  writeFileSync(file, b);
}

/** Bit offsets (in the file) of the data of block `block`, for a blob of `length` bytes. */
export function blockDataBits(length: number, block: number): { first: number; count: number } {
  const start = BLOB_HEADER_SIZE + block * (DEFAULT_BLOCK_SIZE + 8);
  const n = Math.min(DEFAULT_BLOCK_SIZE, length - block * DEFAULT_BLOCK_SIZE);
  return { first: start * 8, count: n * 8 };
}

export function blockCount(length: number): number {
  return Math.ceil(length / DEFAULT_BLOCK_SIZE);
}
