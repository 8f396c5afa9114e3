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
  /** Distinct kind+subject pairs kept while the store refuses writes. */
  maxPending?: number;
  onError?: (err: unknown) => void;
}

export class EventOutbox {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private dropped = 0;

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
    this.events.record(kind, subject, data, now).catch((err: unknown) => {
      this.opts.onError?.(err);
      this.hold(key, { kind, subject, data, first: now, last: now, count: 1 });
    });
  }

  /** Events still waiting for the store. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Tries to write what is waiting; resolves when that attempt is over. */
  flush(): Promise<void> {
    this.flushing ??= this.writePending().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
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
