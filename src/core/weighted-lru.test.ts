import { describe, expect, it } from 'vitest';
import { WeightedLru } from './weighted-lru.js';

describe('WeightedLru', () => {
  it('evicts the least recently used until the total weight fits', () => {
    const lru = new WeightedLru<string, number>(10, (n) => n);
    lru.set('a', 4);
    lru.set('b', 4);
    expect(lru.use('a')).toBe(4); // 'b' is now the oldest
    lru.set('c', 4);
    expect([lru.use('b'), lru.use('a'), lru.use('c'), lru.total, lru.size]).toEqual([undefined, 4, 4, 8, 2]);
  });

  it('counts a replaced value once, and forgets deleted ones', () => {
    const lru = new WeightedLru<number, string>(100, (s) => s.length);
    lru.set(1, 'xx');
    lru.set(1, 'xxx');
    expect(lru.total).toBe(3);
    lru.delete(1);
    lru.delete(2);
    expect([lru.total, lru.size, lru.use(1)]).toEqual([0, 0, undefined]);
    lru.set(3, 'y'.repeat(101)); // heavier than the limit: stored, then evicted at once
    expect([lru.total, lru.size]).toEqual([0, 0]);
    lru.set(4, 'z');
    lru.clear();
    expect([lru.total, lru.size]).toEqual([0, 0]);
  });
});

describe('WeightedLru eviction order over a long run', () => {
  it('always evicts exactly what a plain least-recently-used list would', () => {
    const lru = new WeightedLru<number, number>(50, (n) => n);
    const model: Array<[number, number]> = []; // oldest first
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 5000; i++) {
      const key = rand(40);
      const op = rand(10);
      if (op < 5) {
        const w = 1 + rand(12);
        lru.set(key, w);
        const at = model.findIndex(([k]) => k === key);
        if (at >= 0) model.splice(at, 1);
        model.push([key, w]);
        let total = model.reduce((a, [, v]) => a + v, 0);
        while (total > 50) total -= model.shift()![1];
      } else if (op < 8) {
        const at = model.findIndex(([k]) => k === key);
        expect(lru.use(key)).toBe(at >= 0 ? model[at]![1] : undefined);
        if (at >= 0) model.push(...model.splice(at, 1));
      } else if (op < 9) {
        lru.delete(key);
        const at = model.findIndex(([k]) => k === key);
        if (at >= 0) model.splice(at, 1);
      } else if (rand(50) === 0) {
        lru.clear();
        model.length = 0;
      }
      expect([lru.size, lru.total]).toEqual([model.length, model.reduce((a, [, v]) => a + v, 0)]);
    }
  });
});
