/**
 * The store contract and the multi-node guarantees against a real PostgreSQL
 * (CI starts one on 127.0.0.1:5432 with trust authentication). Each run
 * creates its own database and drops it afterwards; each test gets a fresh
 * schema in it. An unreachable server fails the run: it is never skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { runStoreContract } from '../../contract.js';
import { openStore } from '../../index.js';
import type { Lease, Store } from '../../types.js';
import { newQueueId } from '../../../core/ids.js';
import { BLOB_HEADER_SIZE } from '../../../crypto/blockcodec.js';
import { inspectMetaFile } from '../sqlite/index.js';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../sqlite/schema.js';
import { PgBlobStore, PgMetaStore } from './index.js';
import { SCHEMA_VERSION } from './db.js';
import { verifyChain, type AuditRecord } from '../../../crypto/hashchain.js';

const SERVER = 'postgres://postgres@127.0.0.1:5432';
const DB = `postern_test_${randomBytes(6).toString('hex')}`;
const DB_URL = `${SERVER}/${DB}`;
let admin: pg.Pool | undefined;

beforeAll(async () => {
  const root = new pg.Client({ connectionString: `${SERVER}/postgres`, connectionTimeoutMillis: 5000 });
  try {
    await root.connect();
  } catch (e) {
    throw new Error(
      `PostgreSQL is not reachable at ${SERVER} (${(e as Error).message}). These tests need a real server with trust ` +
        'authentication on 127.0.0.1:5432; .ci/run starts one (pg_ctlcluster ... main start).',
    );
  }
  try {
    await root.query(`CREATE DATABASE ${DB}`);
  } finally {
    await root.end();
  }
  admin = new pg.Pool({ connectionString: DB_URL, max: 2 });
});

afterAll(async () => {
  await admin?.end();
  const root = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await root.connect();
  try {
    await root.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  } finally {
    await root.end();
  }
});

const freshSchema = async (): Promise<string> => {
  const schema = `s_${randomBytes(6).toString('hex')}`;
  await admin!.query(`CREATE SCHEMA ${schema}`);
  return schema;
};

/** A URL that puts the store in its own schema, as an operator could. */
const urlFor = (schema: string, extra = '') => `${DB_URL}?options=${encodeURIComponent(`-c search_path=${schema}${extra}`)}`;

runStoreContract('postgres', async () => {
  const schema = await freshSchema();
  return openStore({ backend: 'postgres', url: urlFor(schema), dataDir: mkdtempSync(path.join(tmpdir(), 'postern-pg-')) });
}, async (s, statement) => {
  if (!(s.meta instanceof PgMetaStore)) throw new Error('not a PostgreSQL store');
  await s.meta.pool.query(statement);
});

describe('postgres: several nodes on one database', () => {
  it('creates the schema once when two nodes start at the same moment', async () => {
    const schema = `s_${randomBytes(6).toString('hex')}`;
    const [a, b] = await Promise.all([PgMetaStore.open({ url: DB_URL, schema }), PgMetaStore.open({ url: DB_URL, schema })]);
    try {
      const r = await admin!.query(`SELECT version FROM ${schema}.postern_migrations ORDER BY version`);
      expect(r.rows.map((x: { version: number }) => x.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
      await a.directory.addDomain('example.org', 1);
      expect(await b.directory.hasDomain('example.org')).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('appends from two nodes form one audit chain', async () => {
    const schema = await freshSchema();
    const [a, b] = await Promise.all([PgMetaStore.open({ url: DB_URL, schema }), PgMetaStore.open({ url: DB_URL, schema })]);
    try {
      await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).audit.append({ at: i, actor: `node${i % 2}`, action: 'user.add', subject: `u${i}`, data: { i } })),
      );
      const all: AuditRecord[] = [];
      for await (const r of a.audit.all(16)) all.push(r);
      expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(verifyChain(all)).toEqual({ ok: true });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('never leases one recipient to two nodes', async () => {
    const schema = await freshSchema();
    const [a, b] = await Promise.all([PgMetaStore.open({ url: DB_URL, schema }), PgMetaStore.open({ url: DB_URL, schema })]);
    try {
      const blobId = 'ab'.repeat(32);
      const want: number[] = [];
      await Promise.all(
        Array.from({ length: 60 }, (_, i) => {
          const node = i % 2 ? a : b;
          const id = newQueueId();
          const rcpts = Array.from({ length: 5 }, (_, j) => ({ address: `r${j}@remote.test`, transport: 'remote' as const }));
          return node.queue.enqueue(
            { id, blobId, size: 10, sender: '', receivedAt: 1000, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} },
            rcpts,
          );
        }),
      );
      for (const r of await a.queue.listPending(10_000)) want.push(r.id);
      expect(want).toHaveLength(300);
      // Four workers per node take small batches until the queue is empty.
      const got: number[] = [];
      const worker = async (node: PgMetaStore) => {
        for (let round = 0; round < 200; round++) {
          const leases: Lease[] = await node.queue.lease({ transport: 'remote', now: 2000, leaseMs: 600_000, limit: 7 });
          if (leases.length === 0) return;
          got.push(...leases.map((l) => l.recipient.id));
        }
      };
      await Promise.all([a, a, a, a, b, b, b, b].map(worker));
      expect(got.length).toBe(want.length);
      expect([...got].sort((x, y) => x - y)).toEqual([...want].sort((x, y) => x - y));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('gives concurrent appends and deliveries from two nodes distinct, dense UIDs', async () => {
    const schema = await freshSchema();
    const [a, b] = await Promise.all([PgMetaStore.open({ url: DB_URL, schema }), PgMetaStore.open({ url: DB_URL, schema })]);
    try {
      await a.directory.addDomain('example.org', 1);
      const user = await a.directory.addAccount({ address: 'alice@example.org', passwordHash: 'h' }, 1);
      const f = await a.mailboxes.createFolder(user.id, 'INBOX', null, 1);
      const blobId = 'cd'.repeat(32);
      const appender = async (node: PgMetaStore) => {
        const uids: number[] = [];
        for (let i = 0; i < 20; i++) uids.push((await node.mailboxes.append(f.id, { blobId, size: 10, internalDate: i })).uid);
        return uids;
      };
      // Local deliveries append to the same folder through the queue, also from both nodes.
      await a.queue.enqueue(
        { id: newQueueId(), blobId, size: 10, sender: '', receivedAt: 1, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} },
        Array.from({ length: 20 }, () => ({ address: user.address, transport: 'local' as const, accountId: user.id })),
      );
      const deliverer = async (node: PgMetaStore) => {
        const uids: number[] = [];
        for (const l of await node.queue.lease({ transport: 'local', now: 2000, leaseMs: 600_000, limit: 10 })) {
          const r = await node.queue.deliverLocal(l, f.id, 2001);
          if (r) uids.push(r.uid);
        }
        return uids;
      };
      const all = (await Promise.all([appender(a), appender(a), appender(b), appender(b), deliverer(a), deliverer(b)])).flat();
      expect(all).toHaveLength(100);
      expect([...all].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      const listed = await b.mailboxes.listMessages(f.id);
      expect(listed.map((m) => m.uid)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(new Set(listed.map((m) => m.modseq)).size).toBe(100);
      const folder = (await a.mailboxes.getFolderById(f.id))!;
      expect(folder.uidNext).toBe(101);
      expect(folder.highestModseq).toBe(Math.max(...listed.map((m) => m.modseq)));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('postgres: durability, integrity and snapshots', () => {
  const open = async (extra = ''): Promise<Store> =>
    openStore({ backend: 'postgres', url: urlFor(await freshSchema(), extra), dataDir: mkdtempSync(path.join(tmpdir(), 'postern-pg-')) });

  it('turns synchronous_commit back on for its sessions', async () => {
    const s = await open(' -c synchronous_commit=off');
    try {
      const r = await (s.meta as PgMetaStore).pool.query('SHOW synchronous_commit');
      expect(r.rows[0].synchronous_commit).toBe('on');
    } finally {
      await s.close();
    }
  });

  it('repairs a flipped bit on read, writes the repair back and logs it', async () => {
    const s = await open();
    try {
      const pool = (s.meta as PgMetaStore).pool;
      const data = randomBytes(20_000);
      const { id } = await s.blobs.put(data);
      const good = Buffer.from(await s.blobs.readContainer(id));
      const bad = Buffer.from(good);
      bad[BLOB_HEADER_SIZE + 5000]! ^= 1 << 3;
      await pool.query('UPDATE blobs SET container = $2 WHERE id = $1', [id, bad]);
      expect(Buffer.from(await s.blobs.get(id)).equals(data)).toBe(true);
      expect(Buffer.from(await s.blobs.readContainer(id)).equals(good)).toBe(true);
      // The event is recorded without holding up the read: wait for it, boundedly.
      for (let i = 0; i < 50 && (await s.meta.events.count('integrity.corrected')) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      const [e] = await s.meta.events.list('integrity.corrected');
      expect(e).toMatchObject({ subject: `blob:${id}`, data: { area: 'data' } });
    } finally {
      await s.close();
    }
  });

  it('never returns damaged bytes, reports missing blobs, and replaces a damaged copy on put', async () => {
    const s = await open();
    try {
      const pool = (s.meta as PgMetaStore).pool;
      const blobs = new PgBlobStore(pool);
      const events: string[] = [];
      blobs.onIntegrity((e) => events.push(e.kind));
      const data = randomBytes(9000);
      const { id } = await blobs.put(data);
      const bad = Buffer.from(await blobs.readContainer(id));
      bad[BLOB_HEADER_SIZE + 100]! ^= 1 << 1;
      bad[BLOB_HEADER_SIZE + 900]! ^= 1 << 6;
      await pool.query('UPDATE blobs SET container = $2 WHERE id = $1', [id, bad]);
      await expect(blobs.get(id)).rejects.toMatchObject({ code: 'INTEGRITY' });
      expect((await blobs.check(id)).ok).toBe(false);
      await blobs.put(data);
      expect(Buffer.from(await blobs.get(id)).equals(data)).toBe(true);
      await pool.query('DELETE FROM blobs WHERE id = $1', [id]);
      await expect(blobs.get(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(events).toEqual(['uncorrectable', 'uncorrectable', 'uncorrectable', 'missing']);
    } finally {
      await s.close();
    }
  });

  it('finds broken invariants: quick sees UID counters, full also orphans', async () => {
    const s = await open();
    try {
      const pool = (s.meta as PgMetaStore).pool;
      await s.meta.directory.addDomain('example.org', 1);
      const user = await s.meta.directory.addAccount({ address: 'alice@example.org', passwordHash: 'h' }, 1);
      const f = await s.meta.mailboxes.createFolder(user.id, 'INBOX', null, 1);
      for (let i = 0; i < 3; i++) await s.meta.mailboxes.append(f.id, { blobId: 'ef'.repeat(32), size: 1, internalDate: i });
      expect(await s.meta.integrity.checkMetadata('full')).toEqual([]);
      await pool.query('UPDATE folders SET uid_next = 2 WHERE id = $1', [f.id]);
      expect(await s.meta.integrity.checkMetadata('quick')).toEqual([expect.stringMatching(new RegExp(`uid_next.*: ${f.id}$`))]);
      await pool.query('UPDATE folders SET uid_next = 4 WHERE id = $1', [f.id]);
      // An orphan only a bulk load with triggers off could leave behind.
      const c = await pool.connect();
      try {
        await c.query('SET session_replication_role = replica');
        await c.query(`INSERT INTO messages (folder_id, uid, blob_id, size, internal_date, modseq) VALUES (987654, 1, 'not-a-blob-id', 1, 1, 1)`);
        await c.query('SET session_replication_role = DEFAULT');
      } finally {
        c.release();
      }
      expect(await s.meta.integrity.checkMetadata('quick')).toEqual([]);
      expect(await s.meta.integrity.checkMetadata('full')).toEqual([
        expect.stringMatching(/^message in a missing folder: \d+$/),
        'malformed blob id: not-a-blob-id',
      ]);
    } finally {
      await s.close();
    }
  });

  it('writes a SQLite snapshot that the backup tools can verify', async () => {
    const s = await open();
    try {
      await s.meta.directory.addDomain('example.org', 1);
      const user = await s.meta.directory.addAccount({ address: 'alice@example.org', passwordHash: 'h' }, 1);
      await s.meta.directory.setDisabled(user.address, true);
      const f = await s.meta.mailboxes.createFolder(user.id, 'INBOX', null, 1);
      const x = await s.blobs.put(Buffer.from('Subject: x\r\n\r\nx\r\n'));
      await s.meta.mailboxes.append(f.id, { blobId: x.id, size: x.size, internalDate: 1, flags: ['\\Seen'] });
      await s.meta.mailboxes.putHeaderCache([{ blobId: x.id, search: 'x', detail: Buffer.from([0, 1, 2]) }]);
      const y = await s.blobs.put(Buffer.from('Subject: y\r\n\r\ny\r\n'));
      await s.meta.queue.enqueue(
        { id: newQueueId(), blobId: y.id, size: y.size, sender: '', receivedAt: 1, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: { a: 1 } },
        [{ address: 'r@remote.test', transport: 'remote' }],
      );
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'postern-pgsnap-')), 'meta.sqlite');
      await s.meta.integrity.backupTo(file);
      const info = inspectMetaFile(file);
      expect(info).toMatchObject({ problems: [], schemaVersion: SQLITE_MIGRATIONS.length });
      expect(info.referencedBlobs).toEqual([x.id, y.id].sort());
      const copy = await openStore({ backend: 'sqlite', dataDir: path.dirname(file) });
      try {
        expect(await copy.meta.directory.getAccount(user.address)).toMatchObject({ id: user.id, disabled: true });
        expect((await copy.meta.mailboxes.listMessages(f.id)).map((m) => [m.uid, m.flags])).toEqual([[1, ['\\Seen']]]);
        expect((await copy.meta.mailboxes.getHeaderCache([x.id], true)).map((e) => Buffer.from(e.detail!))).toEqual([Buffer.from([0, 1, 2])]);
      } finally {
        await copy.close();
      }
    } finally {
      await s.close();
    }
  });
});
