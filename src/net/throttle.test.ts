import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LOGIN_THROTTLE, KNOWN_SOURCE_MAX_FAILURES, LoginThrottle, type LoginOutcome } from './throttle.js';

// Fake timers drive both the throttle's clock (Date.now) and its delays.
const clock = { now: () => Date.now() };
const opts = { ...DEFAULT_LOGIN_THROTTLE, maxSourceFailures: 100, delayMinMs: 1000, delayMaxMs: 4000 };
const wrong = async (): Promise<string | null> => null;
const right = async (): Promise<string | null> => 'account';

/** Starts an attempt and reports whether it settled after advancing fake time by `ms`. */
async function settledAfter<T>(p: Promise<T>, ms: number): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await vi.advanceTimersByTimeAsync(ms);
  return done;
}

describe('LoginThrottle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never locks an account: attempts from unknown addresses are spaced by a doubling delay, capped', async () => {
    const t = new LoginThrottle(opts, clock);
    expect(await t.attempt('192.0.2.1', 'alice', wrong)).toEqual({ result: 'failed' });
    // Attempts are checked at most once per delay: 1 s after one failure, then 2 s,
    // 4 s, and no more than delayMax (4 s), measured from the previous check.
    for (const delay of [1000, 2000, 4000, 4000]) {
      const next = t.attempt('192.0.2.3', 'alice', wrong);
      expect(await settledAfter(next, delay - 2)).toBe(false);
      expect(await settledAfter(next, 2)).toBe(true);
    }
    // The right password still works (after the delay): no lock.
    const ok = t.attempt('192.0.2.4', 'alice', right);
    await vi.advanceTimersByTimeAsync(4001);
    expect(await ok).toEqual({ result: 'ok', value: 'account' });
  });

  it('turns away attempts queued beyond delayMax without checking them', async () => {
    const t = new LoginThrottle(opts, clock);
    for (let i = 0; i < 3; i++) {
      const p = t.attempt('192.0.2.1', 'bob', wrong);
      await vi.advanceTimersByTimeAsync(4001);
      await p;
    }
    const check = vi.fn(wrong);
    const queued: Promise<LoginOutcome<string>>[] = [];
    for (let i = 0; i < 5; i++) queued.push(t.attempt(`198.51.100.${i}`, 'bob', check));
    await vi.advanceTimersByTimeAsync(20_000);
    const results = (await Promise.all(queued)).map((r) => r.result);
    expect(results.filter((r) => r === 'busy').length).toBeGreaterThan(0);
    expect(check).toHaveBeenCalledTimes(results.filter((r) => r !== 'busy').length);
  });

  it('spaces parallel attempts too: a burst of connections is not checked all at once', async () => {
    const t = new LoginThrottle(opts, clock);
    const check = vi.fn(wrong);
    const burst = Array.from({ length: 50 }, (_, i) => t.attempt(`203.0.113.${i}`, 'frank', check));
    // Only the first is checked at once; the rest wait their turn or are turned away.
    await vi.advanceTimersByTimeAsync(0);
    expect(check).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(60_000);
    const results = (await Promise.all(burst)).map((r) => r.result);
    expect(check.mock.calls.length).toBeLessThanOrEqual(4); // 0, 1, 2 and 4 s apart: then delayMax is full
    expect(results.filter((r) => r === 'busy')).toHaveLength(50 - check.mock.calls.length);
  });

  it('lets a client open many connections at once from a new address: its first login makes the rest known', async () => {
    const t = new LoginThrottle(opts, clock);
    const check = vi.fn(right);
    const burst = Array.from({ length: 20 }, () => t.attempt('192.0.2.77', 'grace', check));
    await vi.advanceTimersByTimeAsync(0);
    expect((await Promise.all(burst)).map((r) => r.result)).toEqual(Array(20).fill('ok'));
    expect(check).toHaveBeenCalledTimes(20);
  });

  it('locks a source address after failures across accounts, and lets an address that logged in before through', async () => {
    const t = new LoginThrottle({ ...opts, maxSourceFailures: 3, delayMinMs: 0 }, clock);
    expect((await t.attempt('10.0.0.1', 'carol', right)).result).toBe('ok'); // carol's known address
    for (const who of ['u1', 'u2', 'u3']) expect((await t.attempt('10.0.0.1', who, wrong)).result).toBe('failed');
    expect(t.isLocked('10.0.0.1')).toBe(true);
    const check = vi.fn(right);
    expect((await t.attempt('10.0.0.1', 'dave', check)).result).toBe('locked');
    expect(check).not.toHaveBeenCalled();
    expect((await t.attempt('10.0.0.1', 'carol', right)).result).toBe('ok');
    // A known address that keeps failing on the account loses the privilege.
    for (let i = 0; i < KNOWN_SOURCE_MAX_FAILURES; i++) expect((await t.attempt('10.0.0.1', 'carol', wrong)).result).toBe('failed');
    expect((await t.attempt('10.0.0.1', 'carol', right)).result).toBe('locked');
    // Elsewhere carol is fine.
    expect((await t.attempt('10.0.0.2', 'carol', right)).result).toBe('ok');
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped address as the IPv4 one', async () => {
    const t = new LoginThrottle({ ...opts, maxSourceFailures: 3, delayMinMs: 0 }, clock);
    for (const a of ['2001:db8:5:6::1', '2001:db8:5:6::2', '2001:db8:5:6:ffff::3']) await t.attempt(a, `v6-${a}`, wrong);
    expect(t.isLocked('2001:db8:5:6::99')).toBe(true);
    expect(t.isLocked('2001:db8:5:7::1')).toBe(false);
    for (const a of ['192.0.2.50', '::ffff:192.0.2.50', '192.0.2.50']) await t.attempt(a, 'v4', wrong);
    expect(t.isLocked('::ffff:192.0.2.50')).toBe(true);
  });

  it('answers a known address at once while the account is under attack', async () => {
    const t = new LoginThrottle(opts, clock);
    expect((await t.attempt('10.0.0.9', 'erin', right)).result).toBe('ok');
    for (let i = 0; i < 3; i++) {
      const p = t.attempt('203.0.113.1', 'erin', wrong);
      await vi.advanceTimersByTimeAsync(4001);
      await p;
    }
    const owner = t.attempt('10.0.0.9', 'erin', right);
    expect(await settledAfter(owner, 0)).toBe(true);
    expect((await owner).result).toBe('ok');
  });

  it('keeps its memory bounded under a flood of distinct addresses and names', async () => {
    const t = new LoginThrottle({ ...opts, delayMinMs: 0 }, clock, 100);
    for (let i = 0; i < 1000; i++) await t.attempt(`src-${i}`, `name-${i}`, wrong);
    const sizes = t as unknown as { sources: Map<string, unknown>; accounts: Map<string, unknown>; pairFailures: Map<string, unknown> };
    expect(sizes.sources.size).toBeLessThanOrEqual(101);
    expect(sizes.accounts.size).toBeLessThanOrEqual(101);
    expect(sizes.pairFailures.size).toBeLessThanOrEqual(101);
  });
});
