import { describe, it, expect, beforeEach } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, promises as fsp, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { FsBlobStore, LAYOUT_FILE, SharedDirSync, TEMP_PREFIX, TEMP_STALE_MS, writeNewFile as realWriteNew, type DurableFs } from './blobs.js';
import type { IntegrityEvent } from '../../types.js';
import { BLOB_HEADER_SIZE, encodeBlob } from '../../../crypto/blockcodec.js';

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
    // The reader thread handed the damaged container back raw; the repair was made here.
    expect(store.ioCounts.reads).toEqual({ clean: 0, raw: 1 });
    // The second read finds nothing to repair: verified on the thread.
    expect(Buffer.from(await store.get(id)).equals(data)).toBe(true);
    expect(events).toHaveLength(1);
    expect(store.ioCounts.reads).toEqual({ clean: 1, raw: 1 });
  });

  it('reads clean blobs verified on a reader thread: the same bytes, and check() agrees', async () => {
    const blobs = [randomBytes(0), randomBytes(1), randomBytes(4096), randomBytes(70_000)];
    const ids = [];
    for (const b of blobs) ids.push((await store.put(b)).id);
    const got = await Promise.all(ids.map((id) => store.get(id)));
    got.forEach((g, i) => expect(Buffer.from(g).equals(blobs[i]!)).toBe(true));
    for (const id of ids) expect(await store.check(id)).toEqual({ ok: true, data: null, corrections: [], damage: [], repaired: null, sha256: id });
    expect(store.ioCounts.reads).toEqual({ clean: 8, raw: 0 });
    expect(events).toEqual([]);
  });

  it('a flipped bit found by check() is repaired and reported as by get()', async () => {
    const data = randomBytes(9000);
    const { id } = await store.put(data);
    const file = store.pathOf(id);
    const good = readFileSync(file);
    flip(file, BLOB_HEADER_SIZE + 4200, 0);
    const r = await store.check(id);
    expect(r).toMatchObject({ ok: true, sha256: id, damage: [] });
    expect(r.corrections).toHaveLength(1);
    expect(events).toEqual([expect.objectContaining({ kind: 'corrected', blobId: id })]);
    expect(readFileSync(file).equals(good)).toBe(true);
  });

  it('a blob whose file holds another blob is refused, not served', async () => {
    const a = await store.put(randomBytes(3000));
    const b = await store.put(randomBytes(3000));
    writeFileSync(store.pathOf(a.id), readFileSync(store.pathOf(b.id)));
    await expect(store.get(a.id)).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(events.map((e) => e.kind)).toEqual(['uncorrectable']);
    expect(store.ioCounts.reads.clean).toBe(0);
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

describe('file blob store on a failing disk', () => {
  const fail = (code: string) => Object.assign(new Error(`${code}: simulated failure`), { code });
  /** Real files, but every write stores 100 bytes and then fails like a full disk. */
  const fullDisk: DurableFs = {
    writeNew: async (file, data, mode) => {
      const fh = await fsp.open(file, 'wx', mode);
      try {
        await fh.write(data.subarray(0, 100));
        throw fail('ENOSPC');
      } finally {
        await fh.close();
      }
    },
    rename: fsp.rename,
  };
  const temps = (root: string) => readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f).startsWith(TEMP_PREFIX));

  it('removes the temp file of a failed write and reports a full disk as STORAGE_FULL with the errno in its cause', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'postern-blobs-'));
    const store = await FsBlobStore.open(root, fullDisk);
    for (let i = 0; i < 3; i++) {
      const err = await store.put(randomBytes(5000)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'STORAGE_FULL', smtp: [452, '4.3.1'], cause: { code: 'ENOSPC' } });
    }
    expect(temps(root)).toEqual([]);
    // A rename that fails (any error) takes its temp file along too.
    const badRename = await FsBlobStore.open(root, { writeNew: realWriteNew, rename: async () => Promise.reject(fail('EIO')) });
    await expect(badRename.put(randomBytes(100))).rejects.toMatchObject({ code: 'EIO' });
    expect(temps(root)).toEqual([]);
    rmSync(root, { recursive: true, force: true });
  });

  it.each([1, 2])('removes stale temp files, never those of a write that may still be running (%i levels)', async (levels) => {
    const root = levels === 1 ? mkdtempSync(path.join(tmpdir(), 'postern-blobs-')) : twoLevelRoot();
    const store = await FsBlobStore.open(root);
    expect(store.levels).toBe(levels);
    const { id } = await store.put(randomBytes(1000));
    const dir = path.dirname(store.pathOf(id));
    const old = path.join(dir, `${TEMP_PREFIX}deadbeef`);
    const fresh = path.join(dir, `${TEMP_PREFIX}cafef00d`);
    writeFileSync(old, Buffer.alloc(300));
    writeFileSync(fresh, Buffer.alloc(200));
    writeFileSync(path.join(root, `${TEMP_PREFIX}toplevel`), Buffer.alloc(10));
    const past = new Date(Date.now() - TEMP_STALE_MS - 60_000);
    utimesSync(old, past, past);
    utimesSync(path.join(root, `${TEMP_PREFIX}toplevel`), past, past);
    expect(await store.removeStaleTemp(Date.now())).toEqual({ files: 2, bytes: 310 });
    expect(existsSync(old)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(store.pathOf(id))).toBe(true);
    expect(await store.removeStaleTemp(Date.now())).toEqual({ files: 0, bytes: 0 });
    rmSync(root, { recursive: true, force: true });
  });
});

describe('file blob store: folder layout', () => {
  const ids = async (store: FsBlobStore) => {
    const out: string[] = [];
    for await (const id of store.list()) out.push(id);
    return out;
  };

  it('a new store names its layout before any blob and keeps one fan-out level', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'postern-blobs-'));
    const store = await FsBlobStore.open(root);
    expect(readFileSync(path.join(root, LAYOUT_FILE), 'utf8')).toMatch(/one fan-out level/);
    const put = await Promise.all(Array.from({ length: 40 }, (_, i) => store.put(Buffer.from(`message ${i}\r\n`))));
    for (const r of put) expect(store.pathOf(r.id)).toBe(path.join(root, r.id.slice(0, 2), r.id));
    expect(await ids(store)).toEqual(put.map((r) => r.id).sort());
    await store.close();
    // Opened again (the folder is no longer empty): still one level, every blob found.
    const again = await FsBlobStore.open(root);
    expect(again.levels).toBe(1);
    for (const r of put) expect(await again.has(r.id)).toBe(true);
    await again.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('a store made with two levels (fan-out folders, no layout file) keeps them', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'postern-blobs-'));
    // Written as a two-level store wrote them: ab/cd/<id>.
    const data = Array.from({ length: 20 }, (_, i) => Buffer.from(`old message ${i}\r\n`));
    const want: string[] = [];
    for (const d of data) {
      const id = createHash('sha256').update(d).digest('hex');
      mkdirSync(path.join(root, id.slice(0, 2), id.slice(2, 4)), { recursive: true });
      writeFileSync(path.join(root, id.slice(0, 2), id.slice(2, 4), id), encodeBlob(d));
      want.push(id);
    }
    const store = await FsBlobStore.open(root);
    expect(store.levels).toBe(2);
    expect(existsSync(path.join(root, LAYOUT_FILE))).toBe(false);
    for (const [i, id] of want.entries()) expect(Buffer.from(await store.get(id)).equals(data[i]!)).toBe(true);
    const added = await store.put(Buffer.from('new message\r\n'));
    expect(store.pathOf(added.id)).toBe(path.join(root, added.id.slice(0, 2), added.id.slice(2, 4), added.id));
    expect(await ids(store)).toEqual([...want, added.id].sort());
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses a layout file it does not know, naming it, and writes nothing', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'postern-blobs-'));
    writeFileSync(path.join(root, LAYOUT_FILE), 'postern blobs: three levels\n');
    const err = await FsBlobStore.open(root).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(String((err as Error).message)).toContain(path.join(root, LAYOUT_FILE));
    expect(readdirSync(root)).toEqual([LAYOUT_FILE]);
    rmSync(root, { recursive: true, force: true });
  });
});

describe('file blob store: new fan-out folders', () => {
  it('stores two blobs put at once into the same new folder, and a failed folder fails the put', async () => {
    const store = await FsBlobStore.open(mkdtempSync(path.join(tmpdir(), 'postern-blobs-')));
    // Two contents whose ids share the first four hex digits (one folder): found by trying at most 5,000.
    const seen = new Map<string, Buffer>();
    let pair: [Buffer, Buffer] | null = null;
    for (let i = 0; i < 5000 && !pair; i++) {
      const b = Buffer.from(`message ${i}\r\n`);
      const prefix = createHash('sha256').update(b).digest('hex').slice(0, 4);
      const other = seen.get(prefix);
      if (other) pair = [other, b];
      else seen.set(prefix, b);
    }
    expect(pair).not.toBeNull();
    const [a, b] = pair!;
    const [ra, rb] = await Promise.all([store.put(a), store.put(b)]);
    expect(path.dirname(store.pathOf(ra.id))).toBe(path.dirname(store.pathOf(rb.id)));
    expect(Buffer.from(await store.get(ra.id)).equals(a)).toBe(true);
    expect(Buffer.from(await store.get(rb.id)).equals(b)).toBe(true);
    // A file where the first-level folder must go: the put rejects, nothing is left half made.
    const c = Buffer.from('another message\r\n');
    const id = createHash('sha256').update(c).digest('hex');
    const top = path.join(store.root, id.slice(0, 2));
    if (!existsSync(top)) {
      writeFileSync(top, 'not a folder');
      await expect(store.put(c)).rejects.toThrow();
      expect(await store.has(id)).toBe(false);
    }
  });
});

/** A blob folder as a store made with two fan-out levels left it: fan-out folders, no layout file. */
function twoLevelRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'postern-blobs-'));
  mkdirSync(path.join(root, 'ff'));
  return root;
}

/** Contents whose blob ids share the first `digits` hex digits, found by trying at most 5,000. */
function sameFolder(digits: number): [Buffer, Buffer] {
  const seen = new Map<string, Buffer>();
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.from(`message ${digits} ${i}\r\n`);
    const prefix = createHash('sha256').update(b).digest('hex').slice(0, digits);
    const other = seen.get(prefix);
    if (other) return [other, b];
    seen.set(prefix, b);
  }
  throw new Error('no pair found');
}

describe('file blob store: writes on a writer thread', () => {
  // One level (a new store): a new folder adds the root's sync. Two levels (a store made before): its parent's and the root's.
  it.each([
    { levels: 1, newFolder: 2 },
    { levels: 2, newFolder: 3 },
  ])('answers a put only after the file, its folder and new folders\' parents were synced ($levels levels)', async ({ levels, newFolder }) => {
    const store = await FsBlobStore.open(levels === 1 ? mkdtempSync(path.join(tmpdir(), 'postern-blobs-')) : twoLevelRoot());
    expect(store.levels).toBe(levels);
    const [a, b] = sameFolder(4);
    const ra = await store.put(a);
    // Resolved: the file is in place with the container, nothing temporary is left.
    const file = store.pathOf(ra.id);
    expect(path.relative(store.root, file).split(path.sep)).toHaveLength(levels + 1);
    expect(readFileSync(file).equals(Buffer.from(encodeBlob(a)))).toBe(true);
    expect(readdirSync(path.dirname(file))).toEqual([ra.id]);
    // One file fsync; the new folder and its parents up to the root synced.
    expect(store.ioCounts.syncs).toEqual({ files: 1, dirs: newFolder });
    // Same folder, now known: the file and its folder only.
    const rb = await store.put(b);
    expect(store.ioCounts.syncs).toEqual({ files: 2, dirs: newFolder + 1 });
    // Stored again: no new file, and no folder sync either: this thread synced the entry after writing it.
    const before = statSync(file).mtimeMs;
    utimesSync(file, new Date(before - 60_000), new Date(before - 60_000));
    expect(await store.put(a)).toEqual(ra);
    expect(statSync(file).mtimeMs).toBeGreaterThan(before - 60_000);
    expect(store.ioCounts.syncs).toEqual({ files: 2, dirs: newFolder + 1 });
    expect(Buffer.from(await store.get(rb.id)).equals(b)).toBe(true);
    await store.close();
  });

  it('two levels: a new folder under a fan-out folder already there syncs that folder, not the root again', async () => {
    const store = await FsBlobStore.open(twoLevelRoot());
    // Same first byte (so the same fan-out folder and writer thread), another second byte.
    const seen = new Map<string, Buffer>();
    let pair: [Buffer, Buffer] | null = null;
    for (let i = 0; !pair && i < 5000; i++) {
      const b = Buffer.from(`message ${i}\r\n`);
      const hex = createHash('sha256').update(b).digest('hex');
      const other = seen.get(hex.slice(0, 2));
      if (other && createHash('sha256').update(other).digest('hex').slice(0, 4) !== hex.slice(0, 4)) pair = [other, b];
      else seen.set(hex.slice(0, 2), b);
    }
    const [a, b] = pair!;
    await store.put(a);
    // The new leaf folder, its parent and the root.
    expect(store.ioCounts.syncs).toEqual({ files: 1, dirs: 3 });
    const rb = await store.put(b);
    // The new leaf folder and its parent: the parent's own entry in the root was synced by the first put.
    expect(store.ioCounts.syncs).toEqual({ files: 2, dirs: 5 });
    expect(Buffer.from(await store.get(rb.id)).equals(b)).toBe(true);
    await store.close();
  });

  it('syncs the folder of a blob stored before it was started, the first time a put finds it', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'postern-blobs-'));
    const first = await FsBlobStore.open(root);
    const data = randomBytes(3000);
    const r = await first.put(data);
    await first.close();
    // As after a restart: the entry may come from a process that crashed before its folder sync.
    const store = await FsBlobStore.open(root);
    expect(await store.put(data)).toEqual(r);
    expect(store.ioCounts.syncs).toEqual({ files: 0, dirs: 1 });
    expect(await store.put(data)).toEqual(r);
    expect(store.ioCounts.syncs).toEqual({ files: 0, dirs: 1 });
    // A copy found damaged is repaired, and the repaired entry is synced again when next met.
    writeFileSync(store.pathOf(r.id), readFileSync(store.pathOf(r.id)).subarray(0, 100));
    expect(await store.put(data)).toEqual(r);
    expect(Buffer.from(await store.get(r.id)).equals(data)).toBe(true);
    const dirs = store.ioCounts.syncs!.dirs;
    expect(await store.put(data)).toEqual(r);
    expect(store.ioCounts.syncs!.dirs).toBe(dirs + 1);
    expect(await store.put(data)).toEqual(r);
    expect(store.ioCounts.syncs!.dirs).toBe(dirs + 1);
    await store.close();
  });

  it('a thread that dies fails the writes it held; the next put starts a new thread, reads fall back', async () => {
    const store = await FsBlobStore.open(mkdtempSync(path.join(tmpdir(), 'postern-blobs-')));
    // Same top-level folder: the same writer thread.
    const [a, b] = sameFolder(2);
    const ra = await store.put(a);
    store.crashThreadsForTest();
    const lost = store.put(b);
    await expect(lost).rejects.toThrow(/ended before the write was durable/);
    const rb = await store.put(b);
    expect(Buffer.from(await store.get(rb.id)).equals(b)).toBe(true);
    // A reader thread that dies mid-read: its files are read again and verified here.
    await store.get(ra.id);
    store.crashThreadsForTest();
    expect(Buffer.from(await store.get(ra.id)).equals(a)).toBe(true);
    await store.close();
  });

  it('restores a container from a backup through the thread, replacing what is there', async () => {
    const store = await FsBlobStore.open(mkdtempSync(path.join(tmpdir(), 'postern-blobs-')));
    const data = randomBytes(12_000);
    const { id } = await store.put(data);
    const container = readFileSync(store.pathOf(id));
    writeFileSync(store.pathOf(id), 'garbage');
    await store.writeContainer(id, container);
    expect(readFileSync(store.pathOf(id)).equals(container)).toBe(true);
    expect(Buffer.from(await store.get(id)).equals(data)).toBe(true);
    await store.close();
  });
});

describe('folder fsyncs shared by concurrent writes', () => {
  /** A folder sync the test finishes by hand; records when each one started. */
  function manualSyncs() {
    const started: { dir: string; finish: (e?: Error) => void }[] = [];
    const syncOne = (dir: string) => new Promise<void>((resolve, reject) => started.push({ dir, finish: (e) => (e ? reject(e) : resolve()) }));
    return { started, shared: new SharedDirSync(syncOne) };
  }
  const tick = () => new Promise<void>((r) => setImmediate(r));

  it('a request never joins a sync already running: it waits for the next, which later requests share', async () => {
    const { started, shared } = manualSyncs();
    const log: string[] = [];
    const a = shared.sync('/d').then(() => log.push('a'));
    await tick();
    expect(started).toHaveLength(1);
    // b and c arrive while a's sync runs: they may have renamed after it began, so they need another.
    const b = shared.sync('/d').then(() => log.push('b'));
    const c = shared.sync('/d').then(() => log.push('c'));
    const other = shared.sync('/e').then(() => log.push('e'));
    await tick();
    expect(started.map((s) => s.dir)).toEqual(['/d', '/e']);
    started[0]!.finish();
    await a;
    await tick();
    expect(log).toEqual(['a']);
    expect(started.map((s) => s.dir)).toEqual(['/d', '/e', '/d']);
    started[2]!.finish();
    await Promise.all([b, c]);
    expect(log).toEqual(['a', 'b', 'c']);
    started[1]!.finish();
    await other;
    // Idle again: the next request starts a sync of its own at once.
    const d = shared.sync('/d');
    await tick();
    expect(started).toHaveLength(4);
    started[3]!.finish(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await expect(d).rejects.toMatchObject({ code: 'EIO' });
  });

  it('a failed sync fails its own callers only; the queued one still runs', async () => {
    const { started, shared } = manualSyncs();
    const first = shared.sync('/d');
    const second = shared.sync('/d');
    await tick();
    started[0]!.finish(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    await tick();
    expect(started).toHaveLength(2);
    started[1]!.finish();
    await expect(second).resolves.toBeUndefined();
  });
});

describe('file blob store: reads derived on a reader thread', () => {
  let store: FsBlobStore;
  beforeEach(async () => {
    store = await FsBlobStore.open(mkdtempSync(path.join(tmpdir(), 'postern-blobs-')));
  });
  const module = (code: string) => new URL(`data:text/javascript,${encodeURIComponent(code)}`);
  const sizer = module('export function derive(id, data) { return data.length > 5 ? `${id.slice(0, 8)}:${data.length}:${data[0]}` : null; }');

  it('answer with what the deriver returns for the verified bytes, null included', async () => {
    const data = Buffer.from('Subject: hello\r\n\r\nbody');
    const { id } = await store.put(data);
    const small = await store.put(Buffer.from('tiny'));
    expect(await store.getDerived(id, sizer)).toEqual({ derived: `${id.slice(0, 8)}:${data.length}:${data[0]}` });
    expect(await store.getDerived(small.id, sizer)).toEqual({ derived: null });
    expect(store.ioCounts.reads).toEqual({ clean: 2, raw: 0 });
  });

  it('answer with the bytes when the deriver throws or cannot be loaded', async () => {
    const data = randomBytes(3000);
    const { id } = await store.put(data);
    for (const deriver of [module('export function derive() { throw new Error("no"); }'), module('export const derive = 1;'), module('this is not javascript')]) {
      const got = await store.getDerived(id, deriver);
      expect('data' in got && Buffer.from(got.data).equals(data)).toBe(true);
    }
    expect(await store.getDerived(id, sizer)).toMatchObject({ derived: expect.any(String) });
  });

  it('are never made from damaged bytes: repaired here and given as bytes, or refused', async () => {
    const data = Buffer.from('Subject: hello\r\n\r\n' + 'b'.repeat(9000));
    const { id } = await store.put(data);
    const file = store.pathOf(id);
    const b = readFileSync(file);
    b[BLOB_HEADER_SIZE + 4000]! ^= 4;
    writeFileSync(file, b);
    const got = await store.getDerived(id, sizer);
    expect('data' in got && Buffer.from(got.data).equals(data)).toBe(true);
    expect(store.ioCounts.reads).toEqual({ clean: 0, raw: 1 });
    // Repaired: the next read is derived on the thread.
    expect(await store.getDerived(id, sizer)).toMatchObject({ derived: expect.any(String) });
    const again = readFileSync(file);
    again[BLOB_HEADER_SIZE + 100]! ^= 1;
    again[BLOB_HEADER_SIZE + 900]! ^= 64;
    writeFileSync(file, again);
    await expect(store.getDerived(id, sizer)).rejects.toMatchObject({ code: 'INTEGRITY' });
    rmSync(file);
    await expect(store.getDerived(id, sizer)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
