import { describe, expect, it } from 'vitest';
import { RecentClaims } from './recent.js';

describe('RecentClaims', () => {
  it('claims every UID up to the one named once, and tells later sessions where the claims end', () => {
    const c = new RecentClaims();
    expect(c.mayHaveUnclaimed(1, 11)).toBe(true);
    expect(c.claimTo(1, 10)).toBe(0); // the first session holds 1..10
    expect(c.claimTo(1, 10)).toBe(10); // the next holds none of them
    expect(c.mayHaveUnclaimed(1, 11)).toBe(false);
    expect(c.claimTo(1, 8)).toBe(10); // never moves back
    expect(c.markOf(1)).toBe(10);
    expect(c.unclaimed(1, [9, 10, 11, 12])).toEqual([11, 12]);
    expect(c.claimTo(1, 12)).toBe(10);
    expect(c.markOf(2)).toBe(0);
    c.forget(1);
    expect(c.markOf(1)).toBe(0);
  });
});
