import { describe, expect, it } from 'vitest';
import { LeaseWindow } from './window.js';
import { silentLogger } from '../metrics/logger.js';

const log = silentLogger();
const turn = () => new Promise((r) => setImmediate(r));

/** A queue of numbered items; each item's work stays open until released. */
interface Item {
  n: number;
  key?: number;
}

function gatedQueue(items: Item[]) {
  const waiting = [...items];
  const gates = new Map<number, () => void>();
  const leaseSizes: number[] = [];
  const commits: number[][] = [];
  let commitGate: Promise<void> = Promise.resolve();
  return {
    waiting,
    gates,
    leaseSizes,
    commits,
    holdCommits(p: Promise<void>) {
      commitGate = p;
    },
    work: {
      lease: async (limit: number) => {
        leaseSizes.push(limit);
        return waiting.splice(0, limit);
      },
      work: (item: Item) => new Promise<number | null>((resolve) => gates.set(item.n, () => resolve(item.n < 0 ? null : item.n))),
      commit: async (rs: number[]) => {
        commits.push(rs);
        await commitGate;
      },
    },
  };
}

describe('LeaseWindow', () => {
  it('with work under way, leases again only when a quarter of the window is free', async () => {
    const q = gatedQueue([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => ({ n })));
    const w = new LeaseWindow(q.work, 8, 60_000, log, 'test');
    w.start();
    await turn();
    expect(q.leaseSizes).toEqual([8]);
    q.gates.get(1)!();
    await turn();
    // One slot free of eight: no lease (a transaction per finished item under a steady stream).
    expect(q.leaseSizes).toEqual([8]);
    q.gates.get(2)!();
    await turn();
    expect(q.leaseSizes).toEqual([8, 2]);
    expect([...q.gates.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const n of [3, 4, 5, 6, 7, 8, 9, 10]) q.gates.get(n)!();
    w.halt();
    await w.idle;
    expect(q.commits.flat().sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('leases the next item as soon as one is done, not when the whole window is', async () => {
    const q = gatedQueue([1, 2, 3, 4].map((n) => ({ n })));
    const w = new LeaseWindow(q.work, 2, 60_000, log, 'test');
    w.start();
    await turn();
    expect([...q.gates.keys()]).toEqual([1, 2]);
    q.gates.get(2)!();
    await turn();
    // Item 1 is still at work; 3 takes the slot 2 left.
    expect([...q.gates.keys()]).toEqual([1, 2, 3]);
    expect(q.commits).toEqual([[2]]);
    q.gates.get(1)!();
    q.gates.get(3)!();
    await turn();
    q.gates.get(4)!();
    w.halt();
    await w.idle;
    expect(q.commits.flat().sort()).toEqual([1, 2, 3, 4]);
  });

  it('commits results finished during a commit together in the next one', async () => {
    const q = gatedQueue([1, 2, 3].map((n) => ({ n })));
    let open!: () => void;
    q.holdCommits(new Promise((r) => (open = r)));
    const w = new LeaseWindow(q.work, 3, 60_000, log, 'test');
    w.start();
    await turn();
    q.gates.get(1)!();
    await turn();
    q.gates.get(2)!();
    q.gates.get(3)!();
    await turn();
    expect(q.commits).toEqual([[1]]);
    open();
    w.halt();
    await w.idle;
    expect(q.commits).toEqual([[1], [2, 3]]);
  });

  it('commits items of one order key in lease order, others as they finish', async () => {
    const q = gatedQueue([
      { n: 1, key: 7 },
      { n: 2, key: 7 },
      { n: 3, key: 8 },
    ]);
    const w = new LeaseWindow({ ...q.work, orderKey: (i: Item) => i.key! }, 3, 60_000, log, 'test');
    w.start();
    await turn();
    q.gates.get(2)!();
    await turn();
    // Item 2 waits for item 1, in its slot: the window is still full.
    expect(q.commits).toEqual([]);
    expect(q.leaseSizes).toEqual([3]);
    q.gates.get(3)!();
    await turn();
    expect(q.commits).toEqual([[3]]);
    expect(q.leaseSizes).toEqual([3, 1]);
    q.gates.get(1)!();
    w.halt();
    await w.idle;
    expect(q.commits).toEqual([[3], [1, 2]]);
  });

  it('drains everything due without being started and counts what it leased; a null result is not committed', async () => {
    const q = gatedQueue([1, -2, 3, 4, 5].map((n) => ({ n })));
    const w = new LeaseWindow(q.work, 2, 60_000, log, 'test');
    const drained = w.drain();
    // Release every item as it comes.
    const release = setInterval(() => {
      for (const [n, go] of q.gates) {
        q.gates.delete(n);
        go();
      }
    }, 1);
    try {
      expect(await drained).toBe(5);
    } finally {
      clearInterval(release);
    }
    expect(q.commits.flat().sort()).toEqual([1, 3, 4, 5]);
    expect(Math.max(...q.leaseSizes)).toBeLessThanOrEqual(2);
  });

  it('rejects a drain whose lease failed, and leases nothing once halted', async () => {
    let leases = 0;
    const w = new LeaseWindow(
      {
        lease: async () => {
          leases++;
          throw new Error('store down');
        },
        work: async () => null,
        commit: async () => undefined,
      },
      2,
      60_000,
      log,
      'test',
    );
    await expect(w.drain()).rejects.toThrow('store down');
    w.start();
    await turn();
    w.halt();
    const before = leases;
    w.kick();
    await turn();
    expect(leases).toBe(before);
    expect(() => new LeaseWindow({ lease: async () => [], work: async () => null, commit: async () => undefined }, 0, 1, log, 'test')).toThrow(/positive integer/);
  });
});
