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
