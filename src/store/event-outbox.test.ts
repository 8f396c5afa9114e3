import { describe, expect, it } from 'vitest';
import { EventOutbox } from './event-outbox.js';
import type { EventRepo, StoreEvent } from './types.js';

/** An event repository whose writes fail while `full` is set, as a store on a full disk does. */
function flakyRepo() {
  const rows: StoreEvent[] = [];
  const repo = {
    full: false,
    rows,
    async record(kind: string, subject: string, data: Record<string, unknown>, at: number) {
      if (repo.full) throw Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' });
      rows.push({ id: rows.length + 1, at, kind, subject, data });
    },
    batches: 0,
    async recordMany(events: { kind: string; subject: string; data: Record<string, unknown>; at: number }[]) {
      if (repo.full) throw Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' });
      repo.batches++;
      for (const e of events) rows.push({ id: rows.length + 1, ...e });
    },
    async list() {
      return [...rows].reverse();
    },
    async count(kind: string) {
      return rows.filter((r) => r.kind === kind).length;
    },
    async prune() {
      return 0;
    },
  };
  return repo;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('EventOutbox', () => {
  it('writes at once while the store takes writes', async () => {
    const repo = flakyRepo();
    const box = new EventOutbox(repo as unknown as EventRepo, { now: () => 1000 });
    box.record('storage.full', 'spool', { queueId: 'a' });
    await tick();
    expect(repo.rows).toMatchObject([{ kind: 'storage.full', subject: 'spool', data: { queueId: 'a' }, at: 1000 }]);
    expect(box.waiting).toBe(0);
  });

  it('keeps refused events, coalesced with a count, and writes them once the store recovers', async () => {
    const repo = flakyRepo();
    let now = 1000;
    const box = new EventOutbox(repo as unknown as EventRepo, { now: () => now }, { retryMs: 60_000 });
    repo.full = true;
    box.record('storage.full', 'spool', { queueId: 'a' });
    await tick();
    now = 2000;
    box.record('storage.full', 'spool', { queueId: 'b' });
    box.record('storage.full', 'spool', { queueId: 'c' });
    await tick();
    expect(repo.rows).toEqual([]);
    expect(box.waiting).toBe(1);
    await box.flush(); // still full: nothing lost, nothing written
    expect(box.waiting).toBe(1);
    repo.full = false;
    await box.flush();
    box.stop();
    expect(box.waiting).toBe(0);
    expect(repo.rows).toMatchObject([{ kind: 'storage.full', at: 1000, data: { queueId: 'a', count: 3, first: 1000, last: 2000 } }]);
  });

  it('never rejects, and stays bounded under a flood of distinct subjects', async () => {
    const repo = flakyRepo();
    const box = new EventOutbox(repo as unknown as EventRepo, { now: () => 5 }, { retryMs: 60_000, maxPending: 10 });
    repo.full = true;
    for (let i = 0; i < 500; i++) box.record('x', `s${i}`, {});
    await tick();
    expect(box.waiting).toBe(10);
    repo.full = false;
    await box.flush();
    await tick();
    box.stop();
    expect(repo.rows.filter((r) => r.kind === 'x')).toHaveLength(10);
    expect(repo.rows.find((r) => r.kind === 'events.dropped')?.data).toEqual({ count: 490 });
  });

  it('with batchMs, writes what came in the window in one transaction, and flush writes the rest', async () => {
    const repo = flakyRepo();
    let now = 1000;
    const box = new EventOutbox(repo as unknown as EventRepo, { now: () => now }, { batchMs: 20 });
    for (let i = 0; i < 5; i++) box.record('smtp.message', `Q${i}`, { listener: 'mx', tls: 'none' });
    expect(repo.rows).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(repo.batches).toBe(1);
    expect(repo.rows.map((r) => r.subject)).toEqual(['Q0', 'Q1', 'Q2', 'Q3', 'Q4']);
    now = 2000;
    box.record('smtp.session', 'S1', {});
    await box.flush();
    expect(repo.batches).toBe(2);
    expect(repo.rows.at(-1)).toMatchObject({ kind: 'smtp.session', at: 2000 });
    box.stop();
  });

  it('with batchMs, holds a refused batch and writes it once the store recovers', async () => {
    const repo = flakyRepo();
    const box = new EventOutbox(repo as unknown as EventRepo, { now: () => 1000 }, { batchMs: 5, retryMs: 10 });
    repo.full = true;
    box.record('storage.full', 'spool', { queueId: 'a' });
    box.record('storage.full', 'spool', { queueId: 'b' });
    await new Promise((r) => setTimeout(r, 20));
    expect(box.waiting).toBe(1);
    repo.full = false;
    await box.flush();
    expect(repo.rows).toMatchObject([{ kind: 'storage.full', data: { count: 2 } }]);
    box.stop();
  });
});
