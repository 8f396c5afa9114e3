import type { Clock } from '../core/clock.js';

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A token bucket in bytes per second: the background scrubber takes tokens
 * for each blob before reading it, so it never reads faster than the rate on
 * average, whatever the blob sizes. A blob larger than the bucket is allowed
 * to go into debt, which the following sleeps pay back. Clock and sleep are
 * injected so tests run in simulated time.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
    private readonly sleep: Sleep = realSleep,
  ) {
    if (!(bytesPerSecond > 0) || !(burst > 0)) throw new RangeError('token bucket rate and burst must be positive');
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Takes `n` tokens, sleeping as long as the rate requires. */
  async take(n: number): Promise<void> {
    this.refill();
    this.tokens -= n;
    if (this.tokens < 0) {
      await this.sleep(Math.ceil((-this.tokens * 1000) / this.bytesPerSecond));
      this.refill();
    }
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.bytesPerSecond) / 1000);
  }
}

/** A bucket for `mbps` MB/s (10^6 bytes) with one second of burst; null for "no limit". */
export function rateLimiter(mbps: number | undefined, clock: Clock, sleep?: Sleep): TokenBucket | null {
  if (mbps === undefined || !(mbps > 0)) return null;
  const rate = mbps * 1e6;
  return new TokenBucket(rate, rate, clock, sleep);
}
