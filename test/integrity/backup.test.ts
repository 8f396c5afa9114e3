/**
 * Online backup and verified restore, in process: a backup taken while
 * messages keep arriving holds every message stored before it started; a
 * damaged, edited or incomplete backup is refused before anything is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import { BackupError, backup, restore, scrub, verifyBackup } from '../../src/integrity/index.js';
import { LAYOUT_FILE } from '../../src/store/backends/fs/blobs.js';
import { blobFile, blockDataBits, fillStore, flipBit, openTestStore, removeTempDirs, seededRng, tempDir, testSeed, type StoredMessage } from './helpers.js';

const seed = testSeed();
const rng = seededRng(seed);

function backupBlobFile(dest: string, id: string): string {
  return path.join(dest, 'blobs', id.slice(0, 2), id.slice(2, 4), id);
}

async function expectRefused(src: string, file: RegExp): Promise<void> {
  const v = await verifyBackup(src);
  expect(v.ok).toBe(false);
  expect(v.problems.join('\n')).toMatch(file);
  const target = path.join(tempDir('restore-target'), 'data');
  const err = await restore(src, target).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackupError);
  expect((err as BackupError).kind).toBe('refused');
  expect((err as BackupError).message).toMatch(file);
  expect(existsSync(target)).toBe(false); // nothing was written
}

describe(`backup and restore (seed ${seed})`, () => {
  let store: Store;
  let dir: string;
  let msgs: StoredMessage[];
  let dest: string;

  beforeAll(async () => {
    ({ store, dir } = await openTestStore());
    msgs = await fillStore(store, 40, rng);
    dest = path.join(tempDir('backup'), 'b1');
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    removeTempDirs();
  });

  it('backs up while messages keep arriving, and restores every message stored before it started', async () => {
    const before = [...msgs];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 200 && writing; i++) msgs.push(...(await fillStore(store, 1, rng)));
    })();
    const r = await backup(store, dest);
    writing = false;
    await writer;
    expect(r.complete).toBe(true);
    expect(r.copied).toBe(r.blobs);
    expect(r.blobs).toBeGreaterThanOrEqual(before.length);

    const v = await verifyBackup(dest, { expectDigest: r.manifestSha256 });
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);

    const target = path.join(tempDir('restored'), 'data');
    const rr = await restore(dest, target);
    expect(rr.blobs).toBe(r.blobs);
    const restored = await openStore({ backend: 'sqlite', dataDir: target });
    try {
      const inbox = await restored.meta.mailboxes.listMessages(before[0]!.folderId);
      const byUid = new Map(inbox.map((m) => [m.uid, m]));
      for (const m of before) {
        const got = byUid.get(m.uid);
        expect(got?.blobId, `message uid ${m.uid}`).toBe(m.blobId);
        expect(Buffer.from(await restored.blobs.get(m.blobId)).equals(m.data)).toBe(true);
      }
      // Whatever the snapshot holds, its blobs are there too.
      for (const m of inbox) expect(await restored.blobs.has(m.blobId)).toBe(true);
      expect(await restored.meta.events.count('integrity.restore_completed')).toBe(1);
    } finally {
      await restored.close();
    }
    expect(await store.meta.events.count('integrity.backup_completed')).toBe(1);
  });

  it('updates a backup incrementally, copying only new blobs', async () => {
    const first = JSON.parse(readFileSync(path.join(dest, 'manifest.json'), 'utf8')) as { manifest: { blobs: unknown[] } };
    const added = await fillStore(store, 5, rng);
    msgs.push(...added);
    await expect(backup(store, dest)).rejects.toMatchObject({ kind: 'usage' });
    const r = await backup(store, dest, { incremental: true });
    expect(r.reused).toBe(first.manifest.blobs.length);
    expect(r.copied).toBe(r.blobs - first.manifest.blobs.length);
    expect(r.copied).toBeGreaterThanOrEqual(added.length);
    expect(readdirSync(dest).filter((f) => f.startsWith('meta-'))).toHaveLength(1);
    expect((await verifyBackup(dest)).ok).toBe(true);
  });

  it('refuses a backup with a corrupted blob file, naming the file', async () => {
    const copy = copyOf(dest);
    const id = msgs[2]!.blobId;
    flipBit(backupBlobFile(copy, id), 8 * 500 + 3);
    await expectRefused(copy, new RegExp(`${id}: its SHA-256 does not match the manifest`));
  });

  it('refuses a backup with a missing blob', async () => {
    const copy = copyOf(dest);
    const id = msgs[5]!.blobId;
    rmSync(backupBlobFile(copy, id));
    await expectRefused(copy, new RegExp(`${id}: missing`));
  });

  it('refuses a backup with a corrupted metadata file', async () => {
    const copy = copyOf(dest);
    const meta = readdirSync(copy).find((f) => f.startsWith('meta-'))!;
    flipBit(path.join(copy, meta), 8 * 3000);
    await expectRefused(copy, new RegExp(`${meta}: its SHA-256 does not match the manifest`));
  });

  it('refuses a tampered manifest, a missing one, and one that is not the recorded one', async () => {
    const copy = copyOf(dest);
    const file = path.join(copy, 'manifest.json');
    const good = readFileSync(file, 'utf8');
    const m = JSON.parse(good) as { manifest: { sourceHost: string } };
    m.manifest.sourceHost = 'elsewhere.example';
    writeFileSync(file, JSON.stringify(m));
    await expectRefused(copy, /manifest\.json: does not match its recorded SHA-256/);
    rmSync(file);
    await expectRefused(copy, /manifest\.json: missing/);
    writeFileSync(file, good);
    const v = await verifyBackup(copy, { expectDigest: 'ab'.repeat(32) });
    expect(v.ok).toBe(false);
    expect(v.problems.join('\n')).toMatch(/manifest\.json: its SHA-256 is [0-9a-f]{64}, not the expected/);
  });

  it('refuses to restore into a folder that is not empty', async () => {
    const target = tempDir('busy');
    writeFileSync(path.join(target, 'keep-me'), 'x');
    await expect(restore(dest, target)).rejects.toMatchObject({ kind: 'usage' });
    expect(readdirSync(target)).toEqual(['keep-me']);
  });

  it('copies a repairable blob repaired, leaves a damaged one out and says so', async () => {
    const [single, double] = [msgs[10]!, msgs[11]!];
    flipBit(blobFile(dir, single.blobId), 8 * 200 + 1);
    const { first } = blockDataBits(double.data.length, 0);
    flipBit(blobFile(dir, double.blobId), first + 10);
    flipBit(blobFile(dir, double.blobId), first + 2000);
    const out = path.join(tempDir('backup'), 'b2');
    const r = await backup(store, out);
    expect(r.complete).toBe(false);
    expect(r.repaired).toEqual([single.blobId]);
    expect(r.unavailable.map((u) => u.id)).toEqual([double.blobId]);
    expect(existsSync(backupBlobFile(out, double.blobId))).toBe(false);
    expect(Buffer.from(await store.blobs.get(single.blobId)).equals(single.data)).toBe(true);
    expect(await store.meta.integrity.isDamaged(double.blobId)).toBe(true);

    // Such a backup verifies (it says what it lacks) and restores with the message marked damaged.
    const v = await verifyBackup(out);
    expect(v.ok).toBe(true);
    expect(v.unavailable.map((u) => u.id)).toEqual([double.blobId]);
    const target = path.join(tempDir('restored'), 'data');
    await restore(out, target);
    const restored = await openStore({ backend: 'sqlite', dataDir: target });
    try {
      expect(await restored.meta.integrity.isDamaged(double.blobId)).toBe(true);
      await expect(restored.blobs.get(double.blobId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(Buffer.from(await restored.blobs.get(single.blobId)).equals(single.data)).toBe(true);
    } finally {
      await restored.close();
    }
  });

  it('refuses to back up into a folder that is not empty or not a backup', async () => {
    const busy = tempDir('busy');
    mkdirSync(path.join(busy, 'sub'));
    await expect(backup(store, busy)).rejects.toMatchObject({ kind: 'usage' });
    await expect(backup(store, busy, { incremental: true })).rejects.toThrow(/not a postern backup/);
  });
});

function copyOf(src: string): string {
  const out = path.join(tempDir('backup-copy'), 'b');
  cpSync(src, out, { recursive: true });
  return out;
}

describe('a store made with two fan-out levels', () => {
  afterAll(() => removeTempDirs());

  it('keeps them as it grows, scrubs clean, and restores into a store of one level with every message', async () => {
    const dataDir = tempDir('two-levels');
    // As an earlier build left its blob folder: fan-out folders and no layout file.
    mkdirSync(path.join(dataDir, 'blobs', 'ff'), { recursive: true });
    const { store } = await openTestStore(dataDir);
    let msgs: StoredMessage[];
    const dest = path.join(tempDir('backup-two-levels'), 'b');
    try {
      msgs = await fillStore(store, 12, rng);
      for (const m of msgs) expect(path.relative(path.join(dataDir, 'blobs'), blobFile(dataDir, m.blobId)).split(path.sep)).toHaveLength(3);
      expect(existsSync(path.join(dataDir, 'blobs', LAYOUT_FILE))).toBe(false);
      for (const m of msgs) expect(existsSync(blobFile(dataDir, m.blobId))).toBe(true);
      const report = await scrub(store);
      // Every blob found by the scrub's listing of two levels, none missing, none left over.
      expect(report.blobs).toBe(msgs.length);
      expect(report.missing).toEqual([]);
      expect(report.orphans).toEqual([]);
      expect(report.clean).toBe(true);
      expect((await backup(store, dest)).blobs).toBe(msgs.length);
    } finally {
      await store.close();
    }
    const target = path.join(tempDir('restored-one-level'), 'data');
    await restore(dest, target);
    expect(readFileSync(path.join(target, 'blobs', LAYOUT_FILE), 'utf8')).toMatch(/one fan-out level/);
    const restored = await openStore({ backend: 'sqlite', dataDir: target });
    try {
      for (const m of msgs) {
        expect(existsSync(path.join(target, 'blobs', m.blobId.slice(0, 2), m.blobId))).toBe(true);
        expect(Buffer.from(await restored.blobs.get(m.blobId)).equals(m.data)).toBe(true);
      }
    } finally {
      await restored.close();
    }
  });
});
