/**
 * Posts signed alerts to one URL. Each post has a deadline (10 s); a
 * network error, a timeout, 408, 429 or 5xx is retried after growing delays
 * (bounded: a few attempts), anything else is final. Posts run in the
 * background, at most two at a time; at most `maxPending` wait, beyond that
 * an alert is dropped and counted. Redirects are not followed. Each attempt
 * is signed afresh so its timestamp stays inside the receiver's replay window.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../metrics/logger.js';
import { SIGNATURE_HEADER, signWebhook } from './signature.js';

export type WebhookFailure = 'timeout' | 'network' | 'status' | 'overflow' | 'stopped';

export interface WebhookOptions {
  readonly url: string;
  readonly secret: Uint8Array;
  readonly timeoutMs?: number;
  /** Delays before the 2nd, 3rd, ... attempt. */
  readonly retryDelaysMs?: readonly number[];
  readonly maxPending?: number;
  readonly concurrency?: number;
}

/** `T` travels with each body to the hooks (e.g. the alert it carries). */
export interface WebhookHooks<T> {
  onSent(meta: T): void;
  onFailed(meta: T, cause: WebhookFailure, detail: string): void;
}

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000];

export class WebhookSender<T> {
  private readonly waiting: { body: string; meta: T }[] = [];
  private running = 0;
  private readonly stopping = new AbortController();
  private readonly active = new Set<Promise<void>>();

  constructor(
    private readonly o: WebhookOptions,
    private readonly hooks: WebhookHooks<T>,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Queues a body for posting; never blocks and never throws. */
  send(body: string, meta: T): void {
    if (this.stopping.signal.aborted) return this.hooks.onFailed(meta, 'stopped', 'alerts are stopping');
    if (this.waiting.length >= (this.o.maxPending ?? 100)) return this.hooks.onFailed(meta, 'overflow', 'too many webhooks waiting');
    this.waiting.push({ body, meta });
    this.pump();
  }

  /** Ends retries and posts in flight (they count as failed). */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const w of this.waiting.splice(0)) this.hooks.onFailed(w.meta, 'stopped', 'alerts stopped before it was sent');
    await Promise.allSettled([...this.active]);
  }

  private pump(): void {
    while (this.running < (this.o.concurrency ?? 2) && this.waiting.length > 0) {
      const w = this.waiting.shift()!;
      this.running++;
      const p = this.deliver(w.body, w.meta).finally(() => {
        this.running--;
        this.active.delete(p);
        this.pump();
      });
      this.active.add(p);
    }
  }

  private async deliver(body: string, meta: T): Promise<void> {
    const delays = this.o.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    let last: { cause: WebhookFailure; detail: string } = { cause: 'network', detail: '' };
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (attempt > 0) {
        try {
          await sleep(delays[attempt - 1], undefined, { signal: this.stopping.signal });
        } catch {
          break;
        }
      }
      const r = await this.attempt(body);
      if (r === null) return this.hooks.onSent(meta);
      last = r;
      this.log.warn({ attempt: attempt + 1, cause: r.cause, detail: r.detail }, 'alert webhook failed');
      if (!r.retry || this.stopping.signal.aborted) break;
    }
    this.hooks.onFailed(meta, this.stopping.signal.aborted ? 'stopped' : last.cause, last.detail);
  }

  /** null on success. */
  private async attempt(body: string): Promise<{ cause: WebhookFailure; detail: string; retry: boolean } | null> {
    const timeout = AbortSignal.timeout(this.o.timeoutMs ?? 10_000);
    try {
      const res = await fetch(this.o.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'postern-alerts',
          [SIGNATURE_HEADER]: signWebhook(this.o.secret, body, this.clock.now() / 1000),
        },
        signal: AbortSignal.any([timeout, this.stopping.signal]),
      });
      // The answer's body is not needed: drop it without reading it into memory.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return null;
      const retry = res.status === 408 || res.status === 429 || res.status >= 500;
      return { cause: 'status', detail: `HTTP ${res.status}`, retry };
    } catch (e) {
      const cause: WebhookFailure = timeout.aborted ? 'timeout' : 'network';
      return { cause, detail: e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e), retry: true };
    }
  }
}
