import type { Clock } from '../core/clock.js';

export interface ThrottleOptions {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
}

/**
 * Counts failures per key (a client address, an account) inside a sliding
 * window; once a key reaches maxFailures it is locked out for lockoutMs.
 * Memory stays bounded: stale keys are swept as new ones arrive.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly lockedUntil = new Map<string, number>();
  private lastSweep = 0;

  constructor(
    private readonly opts: ThrottleOptions,
    private readonly clock: Clock,
    private readonly maxKeys = 100_000,
  ) {}

  isLocked(key: string): boolean {
    const until = this.lockedUntil.get(key);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.lockedUntil.delete(key);
    return false;
  }

  /** Records a failure; returns true when the key is now locked out. */
  fail(key: string): boolean {
    const now = this.clock.now();
    this.sweep(now);
    const list = (this.failures.get(key) ?? []).filter((t) => t > now - this.opts.windowMs);
    list.push(now);
    this.failures.set(key, list);
    if (list.length >= this.opts.maxFailures) {
      this.lockedUntil.set(key, now + this.opts.lockoutMs);
      this.failures.delete(key);
      return true;
    }
    return false;
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  private sweep(now: number): void {
    if (this.failures.size < this.maxKeys && now - this.lastSweep < this.opts.windowMs) return;
    this.lastSweep = now;
    for (const [k, v] of this.failures) if (v.every((t) => t <= now - this.opts.windowMs)) this.failures.delete(k);
    for (const [k, t] of this.lockedUntil) if (t <= now) this.lockedUntil.delete(k);
    // Under a flood of distinct keys, forget the oldest rather than grow without bound.
    while (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value as string);
  }
}
