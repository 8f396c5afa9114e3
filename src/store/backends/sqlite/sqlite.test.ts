import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runStoreContract } from '../../contract.js';
import { openStore } from '../../index.js';
import { SqliteMetaStore } from './index.js';

runStoreContract('sqlite + fs blobs', () => openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-store-')) }), async (s, statement) => {
  if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not a SQLite store');
  s.meta.db.exec(statement);
});

describe('sqlite queue: writes that need no sync of their own', () => {
  it('takes leases and purges without leaving the connection below synchronous=FULL', async () => {
    const s = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-store-')) });
    try {
      if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not a SQLite store');
      const FULL = 2;
      const blob = await s.blobs.put(Buffer.from('Subject: s\r\n\r\nbody\r\n'));
      await s.meta.queue.enqueue(
        { id: 'q-sync', blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt: 1000, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} },
        [{ address: 'r@remote.test', transport: 'remote' }],
      );
      const [l] = await s.meta.queue.lease({ transport: 'remote', now: 2000, leaseMs: 1000, limit: 10 });
      expect(l?.recipient.address).toBe('r@remote.test');
      expect(s.meta.db.pragma('synchronous', { simple: true })).toBe(FULL);
      await s.meta.queue.complete(l!, 2001);
      expect(await s.meta.queue.purgeFinished()).toBe(1);
      expect(await s.meta.queue.leaseScan({ now: 3000, leaseMs: 1000, limit: 10 })).toEqual([]);
      expect(s.meta.db.pragma('synchronous', { simple: true })).toBe(FULL);
      // Events commit without a sync of their own and leave the connection as they found it.
      await s.meta.events.record('smtp.session', 'c1', { n: 1 }, 4000);
      await s.meta.events.recordMany([{ at: 4001, kind: 'smtp.session', subject: 'c2', data: {} }]);
      expect((await s.meta.events.list('smtp.session')).map((e) => e.subject)).toEqual(['c2', 'c1']);
      expect(s.meta.db.pragma('synchronous', { simple: true })).toBe(FULL);
    } finally {
      await s.close();
    }
  });
});
