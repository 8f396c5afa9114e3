import type { Clock } from '../core/clock.js';
import { clientKey } from './client-key.js';

export interface LoginThrottleOptions {
  /** Failed logins from one source address, across all accounts, inside the window that lock the address out. */
  maxSourceFailures: number;
  /** How long failures count. */
  windowMs: number;
  /** How long a source address stays locked out. */
  lockoutMs: number;
  /** Wait before the next attempt on an account after its first recent failure; doubles with each further one. */
  delayMinMs: number;
  /** The longest wait between attempts on one account; beyond it an attempt is turned away as "try later". */
  delayMaxMs: number;
  /** Source addresses remembered per account after a successful login. */
  knownSourcesPerAccount: number;
  /** How long a successful login keeps its source address known. */
  knownSourceTtlMs: number;
}

export const DEFAULT_LOGIN_THROTTLE: Readonly<LoginThrottleOptions> = Object.freeze({
  maxSourceFailures: 20,
  windowMs: 300_000,
  lockoutMs: 900_000,
  delayMinMs: 1_000,
  delayMaxMs: 30_000,
  knownSourcesPerAccount: 16,
  knownSourceTtlMs: 30 * 86_400_000,
});

/**
 * A known source loses its privilege after this many recent failures of its
 * own for that account, so a guesser behind the owner's address (a NAT)
 * gets no more fast tries than this.
 */
export const KNOWN_SOURCE_MAX_FAILURES = 3;

/**
 * locked: the source address is locked out; busy: the account has attempts
 * queued up to the longest delay. Neither checked the password.
 */
export type LoginOutcome<T> = { result: 'ok'; value: T } | { result: 'failed' } | { result: 'locked' } | { result: 'busy' };

interface AccountState {
  failures: number[];
  /** When the last attempt from an unknown source was (or will be) checked. */
  lastStart: number;
  /**
   * Attempts from unknown sources reserved but not yet decided (at most one per
   * source): each counts as a failure for the spacing, or parallel connections
   * from many addresses would all be checked before the first failure was recorded.
   */
  inFlight: number;
  /** Source address -> time of its last successful login (insertion order = age). */
  known: Map<string, number>;
}

/**
 * Failed-login throttling that an attacker cannot turn against the owner
 * (a source is an IPv4 address or an IPv6 /64, see clientKey):
 *  - per source address: failures across all accounts lock the address out
 *    (lockout is the only lock, and it is on the attacker's own address);
 *  - per account: no lock, but attempts from unknown sources are spaced out by
 *    a delay that doubles with recent failures (delayMin..delayMax), waited
 *    on a timer, never on the event loop; attempts queued beyond delayMax are
 *    turned away without checking the password;
 *  - a source that logged into the account before (and has not failed on it
 *    since) is checked at once, even while the account is under attack and
 *    even when its address is locked out by someone else's failures.
 * A success never clears failure counts: an attacker with one valid account
 * must not be able to reset the count for the others. Memory is bounded.
 */
export class LoginThrottle {
  private readonly sources = new Map<string, number[]>();
  private readonly lockedUntil = new Map<string, number>();
  private readonly accounts = new Map<string, AccountState>();
  private readonly pairFailures = new Map<string, number[]>();
  /** The last queued attempt per source and account (entries live only while attempts are open). */
  private readonly turns = new Map<string, Promise<void>>();
  private lastSweep = 0;

  constructor(
    private readonly opts: LoginThrottleOptions,
    private readonly clock: Clock,
    private readonly maxKeys = 100_000,
  ) {}

  /**
   * Runs one login attempt of `source` on `account` (a normalised login name):
   * `check` verifies the password and returns the account, or null when wrong.
   * Resolves after any delay the account is under; a throw from `check` is passed on.
   */
  async attempt<T>(address: string, account: string, check: () => Promise<T | null>): Promise<LoginOutcome<T>> {
    const source = clientKey(address);
    // One attempt at a time per source and account: a client opening several
    // connections at once waits for its first login, and once that succeeded
    // the others go through as a known source instead of queueing as strangers.
    const key = pairKey(source, account);
    const before = this.turns.get(key);
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const chain = (before ?? Promise.resolve()).then(() => mine);
    this.turns.set(key, chain);
    try {
      if (before) await before;
      return await this.decide(source, account, check);
    } finally {
      done();
      if (this.turns.get(key) === chain) this.turns.delete(key);
    }
  }

  private async decide<T>(source: string, account: string, check: () => Promise<T | null>): Promise<LoginOutcome<T>> {
    const now = this.clock.now();
    this.sweep(now);
    const known = this.isKnown(source, account, now);
    if (!known && this.isLocked(source, now)) return { result: 'locked' };
    let value: T | null;
    if (known) value = await check();
    else {
      const wait = this.reserve(account, now);
      if (wait === null) return { result: 'busy' };
      const a = this.account(account);
      a.inFlight++;
      try {
        if (wait > 0) await sleep(wait);
        value = await check();
      } finally {
        a.inFlight--;
      }
    }
    if (value !== null) {
      this.remember(source, account);
      return { result: 'ok', value };
    }
    this.fail(source, account);
    return { result: 'failed' };
  }

  /** Whether the source address is locked out (and its attempts on unknown accounts refused unchecked). */
  isLocked(address: string, now = this.clock.now()): boolean {
    const source = clientKey(address);
    const until = this.lockedUntil.get(source);
    if (until === undefined) return false;
    if (until > now) return true;
    this.lockedUntil.delete(source);
    return false;
  }

  /** Records a failure that was not a password check (e.g. refused proxy authorisation) against the source. */
  failSource(address: string): void {
    const source = clientKey(address);
    const now = this.clock.now();
    const list = recent(this.sources.get(source), now, this.opts.windowMs);
    list.push(now);
    touch(this.sources, source, list);
    if (list.length >= this.opts.maxSourceFailures) {
      this.lockedUntil.set(source, now + this.opts.lockoutMs);
      this.sources.delete(source);
    }
  }

  /** The wait (ms) before an attempt from an unknown source on `account` may be checked, or null if too many are queued. */
  private reserve(account: string, now: number): number | null {
    const a = this.account(account);
    a.failures = recent(a.failures, now, this.opts.windowMs);
    const f = a.failures.length + a.inFlight;
    const spacing = f === 0 ? 0 : Math.min(this.opts.delayMaxMs, this.opts.delayMinMs * 2 ** Math.min(f - 1, 30));
    const start = Math.max(now, a.lastStart + spacing);
    if (start - now > this.opts.delayMaxMs) return null;
    a.lastStart = start;
    return start - now;
  }

  private fail(source: string, account: string): void {
    const now = this.clock.now();
    this.failSource(source);
    const a = this.account(account);
    a.failures = recent(a.failures, now, this.opts.windowMs);
    a.failures.push(now);
    const key = pairKey(source, account);
    const pair = recent(this.pairFailures.get(key), now, this.opts.windowMs);
    pair.push(now);
    touch(this.pairFailures, key, pair);
  }

  private remember(source: string, account: string): void {
    const a = this.account(account);
    a.known.delete(source);
    a.known.set(source, this.clock.now());
    while (a.known.size > this.opts.knownSourcesPerAccount) a.known.delete(a.known.keys().next().value as string);
  }

  private isKnown(source: string, account: string, now: number): boolean {
    const at = this.accounts.get(account)?.known.get(source);
    if (at === undefined || now - at > this.opts.knownSourceTtlMs) return false;
    return recent(this.pairFailures.get(pairKey(source, account)), now, this.opts.windowMs).length < KNOWN_SOURCE_MAX_FAILURES;
  }

  private account(name: string): AccountState {
    let a = this.accounts.get(name);
    if (a) {
      touch(this.accounts, name, a);
      return a;
    }
    a = { failures: [], lastStart: -Infinity, inFlight: 0, known: new Map() };
    touch(this.accounts, name, a);
    return a;
  }

  private sweep(now: number): void {
    const full = this.sources.size > this.maxKeys || this.accounts.size > this.maxKeys || this.pairFailures.size > this.maxKeys;
    if (!full && now - this.lastSweep < this.opts.windowMs) return;
    this.lastSweep = now;
    const old = now - this.opts.windowMs;
    for (const [k, v] of this.sources) if (v.every((t) => t <= old)) this.sources.delete(k);
    for (const [k, v] of this.pairFailures) if (v.every((t) => t <= old)) this.pairFailures.delete(k);
    for (const [k, t] of this.lockedUntil) if (t <= now) this.lockedUntil.delete(k);
    for (const [k, a] of this.accounts) {
      for (const [s, t] of a.known) if (now - t > this.opts.knownSourceTtlMs) a.known.delete(s);
      if (a.known.size === 0 && a.inFlight === 0 && a.lastStart <= now && a.failures.every((t) => t <= old)) this.accounts.delete(k);
    }
    // Under a flood of distinct keys, forget the least recently used rather than grow without bound.
    for (const m of [this.sources, this.pairFailures, this.accounts, this.lockedUntil] as Map<string, unknown>[]) {
      while (m.size > this.maxKeys) m.delete(m.keys().next().value as string);
    }
  }
}

function recent(list: number[] | undefined, now: number, windowMs: number): number[] {
  return (list ?? []).filter((t) => t > now - windowMs);
}

/** Re-inserts so that Map order is least recently used first. */
function touch<V>(m: Map<string, V>, k: string, v: V): void {
  m.delete(k);
  m.set(k, v);
}

function pairKey(source: string, account: string): string {
  return `${source}\n${account}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
