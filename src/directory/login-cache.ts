/**
 * A short-lived memory of successful password checks, so a client that logs
 * in again and again (a mail client opening one connection per folder) does
 * not cost a scrypt derivation each time. Only successes are remembered, and
 * only under a keyed hash of everything that made them succeed: the account,
 * its stored password hash, the client address and the password. A wrong
 * password, another address, or a changed stored hash (a new password, from
 * any process) finds nothing and pays the full scrypt check, as before.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.js';

export interface LoginCacheOptions {
  /** How long a success is remembered. */
  readonly ttlMs: number;
  /** Most entries kept; the oldest go first. */
  readonly maxEntries: number;
}

export const DEFAULT_LOGIN_CACHE: LoginCacheOptions = { ttlMs: 60_000, maxEntries: 10_000 };

/** What a remembered success is bound to; every part must match for a hit. */
export interface LoginFacts {
  readonly accountId: number;
  readonly passwordHash: string;
  readonly client: string;
  readonly password: string;
}

export class LoginCache {
  /** Per process, never stored: the entries mean nothing outside this process. */
  private readonly key = randomBytes(32);
  /** Keyed hash → expiry time; Map order is insertion order, so the first entry is the oldest. */
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly opts: LoginCacheOptions = DEFAULT_LOGIN_CACHE,
    private readonly clock: Clock = systemClock,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  private digest(f: LoginFacts): string {
    const h = createHmac('sha256', this.key);
    // Lengths first, so no two different fact lists hash the same bytes.
    for (const part of [String(f.accountId), f.passwordHash, f.client, f.password.normalize('NFC')]) {
      const bytes = Buffer.from(part, 'utf8');
      h.update(`${bytes.length}:`).update(bytes);
    }
    return h.digest('base64');
  }

  /** True when these exact facts succeeded within the time to live. */
  has(f: LoginFacts): boolean {
    const k = this.digest(f);
    const expires = this.entries.get(k);
    if (expires === undefined) return false;
    if (expires > this.clock.now()) return true;
    this.entries.delete(k);
    return false;
  }

  remember(f: LoginFacts): void {
    if (this.opts.maxEntries <= 0 || this.opts.ttlMs <= 0) return;
    const k = this.digest(f);
    this.entries.delete(k); // re-inserted last: the newest
    while (this.entries.size >= this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(k, this.clock.now() + this.opts.ttlMs);
  }

  /** Forgets every success (a password set or an account disabled in this process). */
  clear(): void {
    this.entries.clear();
  }
}
