/**
 * Garbage collection on both backends: expunged mail's blobs go (after the
 * grace period), shared and queued blobs stay, a blob written but not yet
 * referenced stays, the header cache and old events are pruned, and the
 * result is recorded. On the file store, a collection that crashed with a
 * blob set aside puts it back on the next run, and `postern gc` runs on a
 * real installation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import { gc, startBackgroundGc } from '../../src/integrity/index.js';
import { newQueueId } from '../../src/core/ids.js';
import { blobFile, removeTempDirs, tempDir } from './helpers.js';
import { cli, makeInstallation, startServer, type ServerProcess } from '../process/postern-process.js';

const SERVER = 'postgres://postgres@127.0.0.1:5432';
const DB = `postern_gc_${randomBytes(6).toString('hex')}`;
const HOUR = 3_600_000;
/** A clock two hours ahead: everything written now is past the one-hour grace. */
const later = { now: () => Date.now() + 2 * HOUR };

beforeAll(async () => {
  const root = new pg.Client({ connectionString: `${SERVER}/postgres`, connectionTimeoutMillis: 5000 });
  await root.connect();
  try {
    await root.query(`CREATE DATABASE ${DB}`);
  } finally {
    await root.end();
  }
});

afterAll(async () => {
  removeTempDirs();
  const root = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await root.connect();
  try {
    await root.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  } finally {
    await root.end();
  }
});

const backends: [string, () => Promise<{ store: Store; dir: string | null }>][] = [
  ['sqlite', async () => {
    const dir = tempDir('gc');
    return { store: await openStore({ backend: 'sqlite', dataDir: dir }), dir };
  }],
  ['postgres', async () => {
    return { store: await openStore({ backend: 'postgres', dataDir: '', url: `${SERVER}/${DB}` }), dir: null };
  }],
];

describe.each(backends)('garbage collection (%s)', (_name, open) => {
  it('removes expunged mail blobs, keeps shared, queued and fresh ones, prunes cache and old events, records the run', async () => {
    const { store, dir } = await open();
    try {
      const d = store.meta.directory;
      await d.addDomain('example.org', 1);
      const acct = await d.addAccount({ address: 'alice@example.org', passwordHash: '$x' }, 1);
      const inbox = await store.meta.mailboxes.createFolder(acct.id, 'INBOX', null, 1);
      const put = (s: string) => store.blobs.put(Buffer.from(`Subject: ${s}\r\n\r\n${s.repeat(500)}\r\n`));
      const expunged = await put('expunged');
      const shared = await put('shared');
      const queued = await put('queued');
      const m1 = await store.meta.mailboxes.append(inbox.id, { blobId: expunged.id, size: expunged.size, internalDate: 1 });
      const s1 = await store.meta.mailboxes.append(inbox.id, { blobId: shared.id, size: shared.size, internalDate: 2 });
      await store.meta.mailboxes.append(inbox.id, { blobId: shared.id, size: shared.size, internalDate: 3 });
      await store.meta.queue.enqueue(
        { id: newQueueId(), blobId: queued.id, size: queued.size, sender: '', receivedAt: 1, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} },
        [{ address: 'r@remote.test', transport: 'remote' }],
      );
      await store.meta.mailboxes.putHeaderCache([expunged, shared].map((b) => ({ blobId: b.id, search: 's', detail: Buffer.from('d') })));
      await store.meta.mailboxes.expunge(inbox.id, [m1.uid, s1.uid]);
      const stored = (await store.blobs.storedSize(expunged.id))!;
      // A damage mark of a blob that is missing and that no message uses any more goes too; one still in use stays.
      const ghost = 'f'.repeat(64);
      await store.meta.integrity.markDamaged(ghost, 'blob file is missing', 1);
      await store.meta.integrity.markDamaged(shared.id, 'block 1: bad', 1);
      for (let i = 0; i < 30; i++) await store.meta.events.record('auth.failed', '127.0.0.1', { i }, Date.now() - 200 * 24 * HOUR + i);
      await store.meta.events.record('auth.failed', '127.0.0.1', { i: 'today' }, Date.now());

      // Within the grace period nothing is removed: the expunged blob could be stored again right now.
      const early = await gc(store, { eventsRetentionDays: 0 });
      expect(early).toMatchObject({ blobsTotal: 3, unreferenced: 1, blobsRemoved: 0, blobsKept: 1, headerCacheRemoved: 1, eventsRemoved: 0 });
      expect(await store.blobs.has(expunged.id)).toBe(true);
      expect((await store.meta.integrity.listDamaged()).map((x) => x.blobId)).toEqual([shared.id]);
      await store.meta.integrity.clearDamaged(shared.id);

      const dry = await gc(store, { dryRun: true, clock: later });
      expect(dry).toMatchObject({ dryRun: true, blobsRemoved: 1, bytesRemoved: stored, eventsRemoved: 30 });
      expect(await store.blobs.has(expunged.id)).toBe(true);
      expect(await store.meta.events.count('auth.failed')).toBe(31);

      // A blob written just now that no row references yet (an APPEND in flight): kept, even by a later run.
      const inFlight = await put('in flight');
      const r = await gc(store, { clock: { now: () => Date.now() + HOUR / 2 } });
      expect(r).toMatchObject({ blobsTotal: 4, unreferenced: 2, blobsRemoved: 0, eventsRemoved: 30 });
      const inFlightSize = (await store.blobs.storedSize(inFlight.id))!;
      const r2 = await gc(store, { clock: later });
      expect(r2).toMatchObject({ blobsRemoved: 2, bytesRemoved: stored + inFlightSize, eventsRemoved: 0 });
      expect(await store.blobs.has(expunged.id)).toBe(false);
      if (dir) expect(existsSync(blobFile(dir, expunged.id))).toBe(false);
      expect(await store.blobs.has(shared.id)).toBe(true);
      expect(await store.blobs.has(queued.id)).toBe(true);
      expect(Buffer.from(await store.blobs.get(shared.id)).toString()).toContain('shared');
      expect(await store.meta.events.count('auth.failed')).toBe(1);
      const [ev] = await store.meta.events.list('store.gc', 1);
      expect(ev?.data).toMatchObject({ blobsRemoved: 2, eventsRemoved: 0 });
    } finally {
      await store.close();
    }
  });
});

describe('garbage collection on the file store', () => {
  it('puts back a blob that a crashed collection left aside, and never loses a referenced one', async () => {
    const dir = tempDir('gc-crash');
    const store = await openStore({ backend: 'sqlite', dataDir: dir });
    try {
      await store.meta.directory.addDomain('example.org', 1);
      const acct = await store.meta.directory.addAccount({ address: 'bob@example.org', passwordHash: '$x' }, 1);
      const inbox = await store.meta.mailboxes.createFolder(acct.id, 'INBOX', null, 1);
      const b = await store.blobs.put(Buffer.from('Subject: kept\r\n\r\nkept\r\n'));
      await store.meta.mailboxes.append(inbox.id, { blobId: b.id, size: b.size, internalDate: 1 });
      // A crash between "set aside" and "put back": the blob file is under its aside name.
      const file = blobFile(dir, b.id);
      renameSync(file, path.join(path.dirname(file), `.gc-${b.id}`));
      const r = await gc(store, { clock: later });
      expect(r.blobsRemoved).toBe(0);
      expect(existsSync(file)).toBe(true);
      expect(existsSync(path.join(path.dirname(file), `.gc-${b.id}`))).toBe(false);
      expect(Buffer.from(await store.blobs.get(b.id)).toString()).toContain('kept');
    } finally {
      await store.close();
    }
  });

  it('runs in the background and records each run as an event', async () => {
    const dir = tempDir('gc-bg');
    const store = await openStore({ backend: 'sqlite', dataDir: dir });
    const logged: string[] = [];
    const log = { info: (_o: object, m: string) => logged.push(m), warn: (_o: object, m: string) => logged.push(m), error: (_o: object, m: string) => logged.push(m) };
    const collector = startBackgroundGc(store, { intervalHours: 24, eventsRetentionDays: 90, log, startDelayMs: 0 });
    try {
      for (let i = 0; i < 200 && (await store.meta.events.count('store.gc')) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await store.meta.events.count('store.gc')).toBe(1);
    } finally {
      await collector.stop();
      await store.close();
    }
    expect(logged).toContain('garbage collection completed');
  });

  it('`postern start` removes stale temp files of failed blob writes, and `postern gc` prints what it removed', async () => {
    const inst = await makeInstallation('gc.test', '[integrity]\nscrub_interval = 0\ngc_interval = 0\n');
    let server: ServerProcess | null = null;
    try {
      const blobs = path.join(inst.dir, 'data', 'blobs', 'ab');
      mkdirSync(blobs, { recursive: true });
      const stale = path.join(blobs, '.tmp-00112233');
      const fresh = path.join(blobs, '.tmp-44556677');
      writeFileSync(stale, Buffer.alloc(1000));
      writeFileSync(fresh, Buffer.alloc(10));
      const past = new Date(Date.now() - HOUR);
      utimesSync(stale, past, past);
      server = await startServer(inst);
      for (let i = 0; i < 200 && existsSync(stale); i++) await new Promise((r) => setTimeout(r, 25));
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(fresh)).toBe(true);
      await server.kill();
      server = null;

      const r = cli(inst, ['gc', '--dry-run']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/dry run/);
      expect(r.stdout).toMatch(/blobs would remove\s+0/);
      const j = cli(inst, ['gc', '--json']);
      expect(j.status).toBe(0);
      expect(JSON.parse(j.stdout)).toMatchObject({ dryRun: false, blobsRemoved: 0, eventsRemoved: 0 });
    } finally {
      await server?.kill();
      inst.cleanup();
    }
  });
});
