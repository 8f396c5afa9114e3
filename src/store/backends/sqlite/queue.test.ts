import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../index.js';
import { SqliteMetaStore } from './index.js';
import { awaitingScan, dueRecipients } from './queue.js';

async function open() {
  const s = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-queue-')) });
  if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not a SQLite store');
  const db = s.meta.db;
  const msg = db.prepare("INSERT INTO queue_messages (id, blob_id, size, sender, received_at, source, client_address, meta, verdicts, scan_until) VALUES (?, 'b', 1, 's@x.test', 0, 'mx', '127.0.0.1', '{}', '[]', ?)");
  const rcpt = db.prepare('INSERT INTO queue_recipients (queue_id, address, transport, next_attempt_at, state, lease_until) VALUES (?, ?, ?, ?, ?, ?)');
  return { s, db, msg, rcpt };
}

describe('the SQLite queue lease queries', () => {
  it('merges queued, deferred and expired leases oldest due first (then by id), up to the limit, and nothing else', async () => {
    const { s, db, msg, rcpt } = await open();
    try {
      msg.run('q1', null);
      const add = (addr: string, transport: string, due: number, state: string, leaseUntil: number | null = null) => Number(rcpt.run('q1', addr, transport, due, state, leaseUntil).lastInsertRowid);
      const d30 = add('d30@x.test', 'remote', 30, 'deferred');
      const q10 = add('q10@x.test', 'remote', 10, 'queued');
      const l20 = add('l20@x.test', 'remote', 20, 'leased', 50); // lease ran out at 50
      add('l5@x.test', 'remote', 5, 'leased', 500); // still held
      const q30 = add('q30@x.test', 'remote', 30, 'queued'); // same due time as d30, later id
      add('q40@x.test', 'remote', 400, 'queued'); // not due yet
      add('s1@x.test', 'remote', 1, 'scanning');
      add('dl@x.test', 'remote', 1, 'delivered');
      add('loc@x.test', 'local', 1, 'queued');
      const ids = (limit: number) => dueRecipients(db, { transport: 'remote', now: 100, limit }).map((r) => r.id);
      expect(ids(10)).toEqual([q10, l20, d30, q30]);
      expect(ids(3)).toEqual([q10, l20, d30]);
      expect(ids(1)).toEqual([q10]);
      expect(dueRecipients(db, { transport: 'remote', now: 9, limit: 10 })).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('finds the entries waiting for a scan past a page of ids whose scans are leased', async () => {
    const { s, db, msg, rcpt } = await open();
    try {
      // 40 entries with a scan lease held until 1000 (two recipients each), then two free ones and one expired.
      for (let i = 0; i < 40; i++) {
        const id = `q${String(i).padStart(3, '0')}`;
        msg.run(id, 1000);
        rcpt.run(id, 'a@x.test', 'remote', 0, 'scanning', null);
        rcpt.run(id, 'b@x.test', 'local', 0, 'scanning', null);
      }
      msg.run('q100', null);
      rcpt.run('q100', 'a@x.test', 'remote', 0, 'scanning', null);
      msg.run('q101', 50);
      rcpt.run('q101', 'a@x.test', 'remote', 0, 'scanning', null);
      msg.run('q102', null);
      rcpt.run('q102', 'a@x.test', 'remote', 0, 'queued', null); // not waiting for a scan
      msg.run('q103', null);
      rcpt.run('q103', 'a@x.test', 'remote', 0, 'scanning', null);
      expect(awaitingScan(db, 100, 10).map((m) => m.id)).toEqual(['q100', 'q101', 'q103']);
      expect(awaitingScan(db, 100, 2).map((m) => m.id)).toEqual(['q100', 'q101']);
      expect(awaitingScan(db, 2000, 3).map((m) => m.id)).toEqual(['q000', 'q001', 'q002']);
    } finally {
      await s.close();
    }
  });
});
