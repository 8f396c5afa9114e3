import { describe, expect, it } from 'vitest';
import { PosternError } from '../core/errors.js';
import type { BlobStore, QueueRepo } from '../store/types.js';
import { Spool } from './spool.js';

const submission = { queueId: 'Q1', data: new Uint8Array(10), sender: 'a@b.test', recipients: [], source: 'mx' as const, clientAddress: '127.0.0.1', authUser: null, meta: {} };

function spoolWith(put: () => Promise<never>) {
  const faults: [string, string, Record<string, unknown>][] = [];
  const spool = new Spool({ put } as unknown as BlobStore, {} as QueueRepo, { now: () => 0 }, { record: (...a) => faults.push(a) });
  return { spool, faults };
}

describe('Spool faults', () => {
  it('reports a full disk as storage.full with the errno, and still fails the accept', async () => {
    const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    const { spool, faults } = spoolWith(async () => {
      throw new PosternError('STORAGE_FULL', 'writing x', { cause: enospc });
    });
    await expect(spool.accept(submission)).rejects.toThrow(/Insufficient system storage/);
    expect(faults).toEqual([['storage.full', 'spool', { queueId: 'Q1', size: 10, code: 'ENOSPC' }]]);
  });

  it('reports nothing for other store failures', async () => {
    const { spool, faults } = spoolWith(async () => {
      throw new Error('database is locked');
    });
    await expect(spool.accept(submission)).rejects.toThrow('locked');
    expect(faults).toEqual([]);
  });
});
