import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryResolver } from '../../net/dns/memory.js';
import { PoolBatch, type PoolWork } from './batch.js';
import { PolicyAborted, PolicyTaskError } from './errors.js';
import { PolicyPool } from './pool.js';

const BUDGET = 20_000;
const raw = new TextEncoder().encode('From: a@example.org\r\n\r\nhello\r\n');
const work = (task: PoolWork['task'], input: Record<string, unknown> = {}, budgetMs = BUDGET): PoolWork => ({ task, input, budgetMs });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
}

describe('PoolBatch: several stages\' pool work as one worker task', () => {
  let pool: PolicyPool;
  beforeAll(() => {
    pool = PolicyPool.open({ threads: 1, maxHeapMb: 64 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('answers each item on its own: values, a task error, the message bytes in every input, one pool task', async () => {
    const before = pool.stats().completed;
    const b = PoolBatch.start(pool, raw, [work('selftest.echo', { n: 1 }), work('selftest.throw', { message: 'item two broke' }), work('selftest.echo', { n: 3 })]);
    const first = (await b.result(0)) as { n: number; raw: Uint8Array };
    expect(first.n).toBe(1);
    expect(Buffer.from(first.raw).toString()).toBe(Buffer.from(raw).toString());
    const e = await rejection(b.result(1));
    expect(e).toBeInstanceOf(PolicyTaskError);
    expect((e as Error).message).toContain('item two broke');
    expect(await b.result(2)).toMatchObject({ n: 3 });
    expect(b.alive).toBe(true);
    // The answers travel ahead of the task's end: wait (bounded) for the pool to count it.
    for (let i = 0; i < 500 && pool.stats().completed === before; i++) await sleep(10);
    expect(pool.stats().completed).toBe(before + 1);
  });

  it('hands an item its answer before the items after it have run', async () => {
    const b = PoolBatch.start(pool, raw, [work('selftest.echo', { n: 1 }), work('selftest.sleep', { ms: 3000 })]);
    expect(await b.result(0)).toMatchObject({ n: 1 });
    expect(b.answered(1)).toBe(false);
    expect(await b.result(1)).toBe(3000);
  });

  it('gives the first resolver to the whole batch', async () => {
    const zone = new MemoryResolver({ 'example.org': { TXT: ['v=spf1 -all'] } });
    const b = PoolBatch.start(pool, raw, [work('selftest.echo'), { ...work('selftest.dns', { name: 'example.org' }), resolver: zone }]);
    expect(await b.result(1)).toMatchObject({ status: 'ok', records: ['v=spf1 -all'] });
  });

  it('refuses an unknown item and a nested batch, and still answers the others', async () => {
    const b = PoolBatch.start(pool, raw, [work('policy.batch' as PoolWork['task']), work('selftest.echo', { n: 2 })]);
    expect(String(await rejection(b.result(0)))).toContain('unknown batch item policy.batch');
    expect(await b.result(1)).toMatchObject({ n: 2 });
  });

  it('stop(): the items not answered yet reject as aborted and the pool serves the next task', async () => {
    const b = PoolBatch.start(pool, raw, [work('selftest.sleep', { ms: 300 }), work('selftest.echo', { n: 2 })]);
    b.stop();
    expect(await rejection(b.result(1))).toBeInstanceOf(PolicyAborted);
    expect(await pool.run('selftest.echo', 'next', { budgetMs: BUDGET })).toBe('next');
  });

  it('abort(): a spinning item is stopped with its thread, the batch is no longer alive', async () => {
    const b = PoolBatch.start(pool, raw, [work('selftest.spin'), work('selftest.echo')]);
    b.abort();
    expect(await rejection(b.result(0))).toBeInstanceOf(PolicyAborted);
    expect(await rejection(b.result(1))).toBeInstanceOf(PolicyAborted);
    expect(b.alive).toBe(false);
    expect(await pool.run('selftest.echo', 'after', { budgetMs: BUDGET })).toBe('after');
  });

  it('times out at the sum of its items\' budgets', async () => {
    const b = PoolBatch.start(pool, raw, [work('selftest.spin', {}, 100), work('selftest.echo', {}, 100)]);
    expect((await rejection(b.result(0))) as Error).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('200 ms') });
    expect(b.alive).toBe(false);
  });
});
