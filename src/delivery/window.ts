import type { Logger } from '../metrics/logger.js';

/** What a `LeaseWindow` runs: leases, work on each leased item, and grouped commits of results. */
export interface WindowWork<L, R> {
  /** Leases at most `limit` items due now (an empty list when none is). */
  lease(limit: number): Promise<L[]>;
  /** Works on one leased item; its result to commit, or null. Must not throw (an item that fails keeps its lease until it expires). */
  work(item: L): Promise<R | null>;
  /** Records results together (one store transaction). Must not throw. */
  commit(results: R[]): Promise<void>;
  /**
   * Items with the same key are committed in the order they were leased (an
   * item finished early waits for those before it); without it, in the
   * order they finish.
   */
  orderKey?(item: L): string | number;
}

/** An item at work, in the line of its order key. */
interface Slot<R> {
  finished: boolean;
  result: R | null;
}

/**
 * Keeps up to `limit` leased items at work and leases the next as soon as
 * one finishes, so an item that arrives waits for a free slot, not for a
 * whole batch (its slowest item and its commit) to end. Results are
 * committed in groups: those finished while a commit runs go together in the
 * next one (one sync to disk for many). Leases are what make this safe:
 * an item is worked on only under its lease, and one whose work or commit
 * is lost (a crash) is leased again once its lease expires.
 *
 * `kick` says items may be due; without kicks it looks every `pollMs`
 * while quiet (retries that come due).
 */
export class LeaseWindow<L, R> {
  private working = 0;
  private leasing = false;
  private committing = false;
  private ready: R[] = [];
  /** Items may be waiting: lease when a slot is free. */
  private more = false;
  private halted = true;
  private draining = 0;
  private timer: NodeJS.Timeout | null = null;
  private taken = 0;
  private leaseError: unknown = null;
  private quietWaiters: (() => void)[] = [];
  /** Per order key, its items at work or waiting for one before them, in lease order. */
  private readonly lines = new Map<string | number, Slot<R>[]>();
  private readonly minLease: number;

  constructor(
    private readonly w: WindowWork<L, R>,
    private readonly limit: number,
    private readonly pollMs: number,
    private readonly log: Logger,
    private readonly what: string,
    /** Records a failed lease (an event); the next kick, at the latest after `pollMs`, is the retry. */
    private readonly onError?: (e: unknown) => Promise<void>,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`${what}: the window must be a positive integer`);
    this.minLease = Math.max(1, Math.floor(limit / 4));
  }

  /** Nothing leased, at work or waiting to be committed. */
  get quiet(): boolean {
    return !this.leasing && this.working === 0 && !this.committing && this.ready.length === 0;
  }

  /** Items leased and not yet handed to a commit. */
  get atWork(): number {
    return this.working + this.ready.length;
  }

  /** Settles once nothing is at work or being committed. */
  get idle(): Promise<void> {
    if (this.quiet) return Promise.resolve();
    return new Promise((resolve) => this.quietWaiters.push(resolve));
  }

  start(): void {
    this.halted = false;
    this.kick();
  }

  kick(): void {
    if (this.halted) return;
    this.more = true;
    this.fill();
  }

  /** No new leases from now on; work under way goes on (await `idle`). */
  halt(): void {
    this.halted = true;
    this.clearTimer();
  }

  /**
   * Works through everything due now, started or not, and resolves with how
   * many items were leased meanwhile; rejects when a lease failed.
   */
  async drain(): Promise<number> {
    const before = this.taken;
    this.draining++;
    this.leaseError = null;
    try {
      this.more = true;
      this.fill();
      while (this.more || !this.quiet) {
        await this.idle;
        this.fill();
      }
      if (this.leaseError !== null) throw this.leaseError;
      return this.taken - before;
    } finally {
      this.draining--;
    }
  }

  private fill(): void {
    const room = this.limit - this.working;
    // With work under way, a lease waits for a quarter of the window to be free: under a
    // steady stream a lease per finished item costs a store transaction per item.
    const least = this.working === 0 ? 1 : this.minLease;
    if (this.leasing || !this.more || room < least || (this.halted && this.draining === 0)) return this.settle();
    this.more = false;
    this.leasing = true;
    this.clearTimer();
    this.w
      .lease(room)
      .then(
        (items) => {
          // A full lease: more may be waiting behind it.
          if (items.length === room) this.more = true;
          this.taken += items.length;
          for (const item of items) this.begin(item);
        },
        async (e: unknown) => {
          this.leaseError = e;
          this.log.error({ err: e }, `${this.what} lease failed`);
          await this.onError?.(e);
        },
      )
      .catch(() => undefined)
      .finally(() => {
        this.leasing = false;
        this.fill();
      });
  }

  private begin(item: L): void {
    this.working++;
    const key = this.w.orderKey?.(item);
    const slot: Slot<R> = { finished: false, result: null };
    if (key !== undefined) {
      const line = this.lines.get(key);
      if (line) line.push(slot);
      else this.lines.set(key, [slot]);
    }
    // An item keeps its slot until it goes on to a commit: one waiting in its
    // line counts, so a slow head cannot let the window lease without bound.
    const done = (r: R | null): void => {
      slot.finished = true;
      slot.result = r;
      if (key === undefined) {
        this.working--;
        if (r !== null) this.ready.push(r);
      } else {
        // The finished head of the line goes on, with every finished one right behind it.
        const line = this.lines.get(key)!;
        while (line.length > 0 && line[0]!.finished) {
          const head = line.shift()!;
          this.working--;
          if (head.result !== null) this.ready.push(head.result);
        }
        if (line.length === 0) this.lines.delete(key);
      }
      this.flush();
      this.fill();
    };
    this.w.work(item).then(done, (e: unknown) => {
      this.log.error({ err: e }, `${this.what} failed; left to a retry`);
      done(null);
    });
  }

  private flush(): void {
    if (this.committing || this.ready.length === 0) return;
    this.committing = true;
    const group = this.ready.splice(0);
    this.w
      .commit(group)
      .catch((e: unknown) => this.log.error({ err: e }, `${this.what} commit failed; left to a retry`))
      .finally(() => {
        this.committing = false;
        this.flush();
        this.fill();
      });
  }

  /** When quiet: wakes whoever waits for that, and (running) looks again after `pollMs`. */
  private settle(): void {
    if (!this.quiet) return;
    for (const fn of this.quietWaiters.splice(0)) fn();
    if (!this.halted && !this.timer) this.timer = setTimeout(() => this.kick(), this.pollMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
