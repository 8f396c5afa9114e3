import { describe, expect, it } from 'vitest';
import type { BlobStore, NewQueueMessage, QueueRepo, ScanLease } from '../store/types.js';
import { Spool, type Submission } from './spool.js';

const base: Submission = { queueId: 'Q1', data: new Uint8Array(10), sender: 'a@b.test', recipients: [], source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} };

function spoolWith(enqueue: (m: NewQueueMessage) => Promise<void>) {
  const blobs = { put: async (d: Uint8Array) => ({ id: 'b1', size: d.length }) } as unknown as BlobStore;
  const heard: [string, string][] = [];
  const spool = new Spool(blobs, { enqueue } as unknown as QueueRepo, { now: () => 0 });
  spool.onEnqueued((id, waits) => heard.push([id, waits]));
  return { spool, heard };
}

describe('Spool listeners', () => {
  it('tell where each new entry waits: delivery, the scanner or quarantine', async () => {
    const { spool, heard } = spoolWith(async () => undefined);
    await spool.accept(base);
    await spool.accept({ ...base, queueId: 'Q2', route: 'scan' });
    await spool.accept({ ...base, queueId: 'Q3', route: { quarantine: { stage: 'dlp', reason: 'card numbers' } } });
    await spool.accept({ ...base, queueId: 'Q4', route: 'deliver' });
    await new Promise((r) => setImmediate(r));
    expect(heard).toEqual([
      ['Q1', 'deliver'],
      ['Q2', 'scan'],
      ['Q3', 'held'],
      ['Q4', 'deliver'],
    ]);
  });

  it('do not hear of an entry whose scan went to the scan taker; the store gets the entry with that lease', async () => {
    const stored: NewQueueMessage[] = [];
    const { spool, heard } = spoolWith(async (m) => void stored.push(m));
    const handed: ScanLease[] = [];
    spool.handScansTo({ leaseMs: 500, adopt: (l) => handed.push(l) });
    await spool.accept({ ...base, queueId: 'Q1', route: 'scan', meta: { helo: 'h', gone: undefined } });
    await spool.accept({ ...base, queueId: 'Q2' });
    expect(handed).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(heard).toEqual([['Q2', 'deliver']]);
    expect(handed.map((l) => [l.message.id, l.until, l.message.meta])).toEqual([['Q1', 500, { helo: 'h' }]]);
    expect(stored.map((m) => m.scanLease)).toEqual([{ token: handed[0]!.token, until: 500 }, undefined]);
    // Without a taker, as before.
    spool.handScansTo(null);
    await spool.accept({ ...base, queueId: 'Q3', route: 'scan' });
    await new Promise((r) => setImmediate(r));
    expect(heard).toEqual([['Q2', 'deliver'], ['Q3', 'scan']]);
    expect(stored[2]!.scanLease).toBeUndefined();
  });

  it('hear nothing of an entry the store refused', async () => {
    const { spool, heard } = spoolWith(async () => {
      throw new Error('database is locked');
    });
    await expect(spool.accept({ ...base, route: 'scan' })).rejects.toThrow('locked');
    await new Promise((r) => setImmediate(r));
    expect(heard).toEqual([]);
  });

  it('hear of an entry after accept has resolved, so the receiver answers first', async () => {
    const { spool, heard } = spoolWith(async () => undefined);
    await spool.accept(base);
    expect(heard).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(heard).toEqual([['Q1', 'deliver']]);
  });

  it('a listener that throws neither fails the accepted message nor keeps the others from hearing', async () => {
    const { spool, heard } = spoolWith(async () => undefined);
    const later: string[] = [];
    spool.onEnqueued(() => {
      throw new Error('agent gone');
    });
    spool.onEnqueued((id) => later.push(id));
    await expect(spool.accept(base)).resolves.toBeUndefined();
    await new Promise((r) => setImmediate(r));
    expect(heard).toEqual([['Q1', 'deliver']]);
    expect(later).toEqual(['Q1']);
  });
});
