import { describe, expect, it } from 'vitest';
import { MemoryBudget } from './memory-budget.js';

describe('MemoryBudget', () => {
  it('reserves while bytes fit and refuses what would not, taking nothing then', () => {
    const b = new MemoryBudget(100);
    expect(b.tryReserve(60)).toBe(true);
    expect(b.tryReserve(41)).toBe(false);
    expect(b.used).toBe(60);
    expect(b.tryReserve(40)).toBe(true);
    b.release(100);
    expect(b.used).toBe(0);
    expect(b.peak).toBe(100);
  });

  it('gives back everything a holder took, once, however often it is asked', () => {
    const b = new MemoryBudget(100);
    const one = b.holder();
    const two = b.holder();
    expect(one.reserve(30) && one.reserve(30)).toBe(true);
    expect(two.reserve(50)).toBe(false);
    expect(two.reserve(40)).toBe(true);
    one.release(10);
    expect(one.held).toBe(50);
    one.releaseAll();
    one.releaseAll();
    two.releaseAll();
    expect(b.used).toBe(0);
  });

  it('refuses a non-positive total and a release of more than was reserved', () => {
    expect(() => new MemoryBudget(0)).toThrow(RangeError);
    const b = new MemoryBudget(10);
    expect(() => b.release(1)).toThrow(RangeError);
    expect(b.used).toBe(0);
    expect(new MemoryBudget(Infinity).tryReserve(1e12)).toBe(true);
  });
});
