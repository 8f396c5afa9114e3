import { describe, expect, it } from 'vitest';
import { ByteBudget, SharedReads } from './bounded.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('SharedReads', () => {
  it('reads a blob once for all its announced uses, and again after the last one took it', async () => {
    const reads: string[] = [];
    const shared = new SharedReads(async (id) => (reads.push(id), Buffer.from(id)));
    shared.want('a');
    shared.want('a');
    shared.want('b');
    const got = await Promise.all([shared.take('a'), shared.take('b'), shared.take('a')]);
    expect(got.map((b) => Buffer.from(b).toString())).toEqual(['a', 'b', 'a']);
    expect(reads).toEqual(['a', 'b']);
    await shared.take('a');
    expect(reads).toEqual(['a', 'b', 'a']);
  });

  it('does not keep a failed read: the next use reads again', async () => {
    let n = 0;
    const shared = new SharedReads(async () => {
      if (n++ === 0) throw new Error('disk');
      return Buffer.from('ok');
    });
    shared.want('x');
    shared.want('x');
    await expect(shared.take('x')).rejects.toThrow('disk');
    expect(Buffer.from(await shared.take('x')).toString()).toBe('ok');
    expect(n).toBe(2);
  });
});

describe('ByteBudget', () => {
  it('lets work in while it fits, a first holder however large, and the rest in turn as bytes come back', async () => {
    const budget = new ByteBudget(100);
    const order: string[] = [];
    await budget.acquire(60);
    const b = budget.acquire(60).then(() => order.push('b'));
    const c = budget.acquire(10).then(() => order.push('c'));
    await tick();
    // c would fit, but waits its turn behind b.
    expect(order).toEqual([]);
    budget.release(60);
    await Promise.all([b, c]);
    expect(order).toEqual(['b', 'c']);
    budget.release(60);
    budget.release(10);
    await budget.acquire(500);
    budget.release(500);
  });
});
