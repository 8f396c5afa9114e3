/**
 * Records events that must not be lost just because the store cannot take a
 * write at that moment — above all "the disk is full", which is exactly when
 * writing the event fails too. `record` never throws and never rejects: an
 * event the store refuses is kept in memory (coalesced by kind and subject,
 * with a count, first and last time; bounded) and written on a timer once the
 * store takes writes again.
 */
import type { Clock } from '../core/clock.js';
import type { EventKind, EventRepo } from './types.js';

interface Pending {
  kind: EventKind;
  subject: string;
  data: Record<string, unknown>;
  first: number;
  last: number;
  count: number;
}

export interface EventOutboxOptions {
  retryMs?: number;
  /**
   * Gather events this many ms and write them in one transaction (one sync
   * to disk instead of one per event); 0 writes each at once. A crash loses
   * at most this window of events, never mail.
   */
  batchMs?: number;
  /** Distinct kind+subject pairs kept while the store refuses writes. */
  maxPending?: number;
  onError?: (err: unknown) => void;
}

const MAX_BATCH = 500;

export class EventOutbox {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private dropped = 0;
  private batch: Pending[] = [];
  private batchTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly events: EventRepo,
    private readonly clock: Clock,
    private readonly opts: EventOutboxOptions = {},
  ) {}

  record(kind: EventKind, subject: string, data: Record<string, unknown>): void {
    const now = this.clock.now();
    const key = `${kind}\u0000${subject}`;
    const held = this.pending.get(key);
    if (held) {
      // The store already refused this kind of event: add to it rather than try again per event.
      held.count++;
      held.last = now;
      return;
    }
    const p = { kind, subject, data, first: now, last: now, count: 1 };
    if (this.opts.batchMs) {
      this.batch.push(p);
      // writeBatch never rejects (a refused batch is held); the catch only satisfies the rule.
      if (this.batch.length >= MAX_BATCH) this.writeBatch().catch(() => undefined);
      else
        this.batchTimer ??= setTimeout(() => {
          this.writeBatch().catch(() => undefined);
        }, this.opts.batchMs).unref();
      return;
    }
    this.events.record(kind, subject, data, now).catch((err: unknown) => {
      this.opts.onError?.(err);
      this.hold(key, p);
    });
  }

  /** Writes the gathered events; those the store refuses are held like single ones. */
  private writeBatch(): Promise<void> {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return Promise.resolve();
    return this.events
      .recordMany(batch.map((p) => ({ kind: p.kind, subject: p.subject, data: p.data, at: p.first })))
      .catch((err: unknown) => {
        this.opts.onError?.(err);
        for (const p of batch) this.hold(`${p.kind}\u0000${p.subject}`, p);
      });
  }

  /** Events still waiting for the store. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Tries to write what is waiting; resolves when that attempt is over. */
  flush(): Promise<void> {
    this.flushing ??= this.writeBatch().then(() => this.writePending()).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
  }

  private hold(key: string, p: Pending): void {
    const held = this.pending.get(key);
    if (held) {
      held.count += p.count;
      held.last = Math.max(held.last, p.last);
    } else if (this.pending.size < (this.opts.maxPending ?? 1000)) this.pending.set(key, p);
    else this.dropped += p.count;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush().catch((err: unknown) => this.opts.onError?.(err));
    }, this.opts.retryMs ?? 5000);
    this.timer.unref();
  }

  private async writePending(): Promise<void> {
    for (const [key, p] of [...this.pending]) {
      this.pending.delete(key);
      const data = p.count > 1 || p.last !== p.first ? { ...p.data, count: p.count, first: p.first, last: p.last } : p.data;
      try {
        await this.events.record(p.kind, p.subject, data, p.first);
      } catch (err) {
        this.opts.onError?.(err);
        this.hold(key, p);
        return; // still refused: the timer tries again
      }
    }
    if (this.dropped > 0) {
      const dropped = this.dropped;
      this.dropped = 0;
      this.record('events.dropped', 'outbox', { count: dropped });
    }
  }
}
