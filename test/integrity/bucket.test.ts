import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TokenBucket, rateLimiter } from '../../src/integrity/index.js';

/** A clock that only moves when the bucket sleeps, so the test runs in simulated time. */
function simulated() {
  const s = { now: 0, slept: 0 };
  return { s, clock: { now: () => s.now }, sleep: async (ms: number) => { s.slept += ms; s.now += ms; } };
}

describe('token bucket', () => {
  it('lets a burst through, then holds the average to the rate', async () => {
    const { s, clock, sleep } = simulated();
    const b = new TokenBucket(1000, 500, clock, sleep); // 1000 B/s, 500 B burst
    await b.take(500);
    expect(s.slept).toBe(0);
    await b.take(1000);
    expect(s.slept).toBe(1000);
    await b.take(250);
    expect(s.slept).toBe(1250);
  });

  it('credits time that passed between takes, up to the burst', async () => {
    const { s, clock, sleep } = simulated();
    const b = new TokenBucket(1000, 500, clock, sleep);
    await b.take(500);
    s.now += 10_000; // idle for a long time: only the burst comes back
    await b.take(500);
    expect(s.slept).toBe(0);
    await b.take(100);
    expect(s.slept).toBe(100);
  });

  it('never lets more than burst + rate * time through (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 40 }), async (sizes) => {
        const { s, clock, sleep } = simulated();
        const b = new TokenBucket(2000, 1000, clock, sleep);
        let total = 0;
        for (const n of sizes) {
          await b.take(n);
          total += n;
          expect(total).toBeLessThanOrEqual(1000 + (2000 * s.now) / 1000 + 2);
        }
      }),
    );
  });

  it('means no limit for 0 or no rate', () => {
    expect(rateLimiter(undefined, { now: () => 0 })).toBeNull();
    expect(rateLimiter(0, { now: () => 0 })).toBeNull();
    expect(rateLimiter(20, { now: () => 0 })).toBeInstanceOf(TokenBucket);
    expect(() => new TokenBucket(0, 1, { now: () => 0 })).toThrow(RangeError);
  });
});
