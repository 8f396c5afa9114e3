/**
 * Tails the events table for alertable kinds and sends each alert by mail
 * and webhook. The table, not this process's event feed, is the source: an
 * event recorded by a CLI command (`postern backup verify` in cron) or by
 * another node alerts too. Nodes sharing a store claim ranges of event ids
 * with a compare-and-set on one cursor, so each event is alerted by one node.
 *
 * PostgreSQL hands out ids before commit, so an id may become visible after
 * a higher one. A pass therefore only claims up to the newest id it saw on
 * the previous pass (one poll interval ago), by which time earlier inserts
 * have committed.
 *
 * Claiming comes before sending: a crash between the two loses those alerts
 * rather than sending them twice from two nodes.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../metrics/logger.js';
import type { EventRepo, StoreEvent } from '../store/types.js';
import type { Alert } from './alert.js';
import { AlertRateLimiter, type AlertSummary } from './rate-limit.js';
import { ALERT_KINDS, matchRule, ruleFor, type AlertSeverity } from './rules.js';

export const CURSOR = 'alerts';
const BATCH = 500;
const MAX_BATCHES_PER_PASS = 20;

export interface AlertChannel {
  readonly name: 'mail' | 'webhook';
  /** Sends or queues; must not throw (failures are the channel's to report). */
  send(alert: Alert): Promise<void>;
}

export interface AlerterOptions {
  readonly host: string;
  readonly minSeverity: AlertSeverity;
  readonly pollMs: number;
  readonly maxPerWindow: number;
  readonly windowMs: number;
}

export class Alerter {
  private cursor: number | null = null;
  /** The newest event id seen on the previous pass: what this pass may claim up to. */
  private horizon: number | null = null;
  private readonly limiter: AlertRateLimiter;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private markReady: () => void = () => undefined;
  /** Resolves once the cursor is known: events recorded from then on will alert. */
  readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));

  constructor(
    private readonly events: EventRepo,
    private readonly channels: readonly AlertChannel[],
    private readonly o: AlerterOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.limiter = new AlertRateLimiter(o.maxPerWindow, o.windowMs);
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .catch((err: unknown) => this.log.warn({ err }, 'alert pass failed; retrying at the next poll'))
        .finally(() => {
          this.running = null;
          this.schedule(this.o.pollMs);
        });
    }, ms);
  }

  /** One pass: claim and alert new events, then send the summaries of ended windows. */
  async pass(): Promise<void> {
    const newest = (await this.events.list(undefined, 1))[0]?.id ?? 0;
    // The first node ever to start begins at the present: old events do not alert.
    this.cursor ??= await this.events.cursor(CURSOR, newest);
    this.markReady();
    const safeTo = this.horizon;
    this.horizon = newest;
    for (let i = 0; safeTo !== null && this.cursor < safeTo && i < MAX_BATCHES_PER_PASS && !this.stopped; i++) {
      const from = this.cursor;
      const batch = await this.events.after(from, ALERT_KINDS, BATCH);
      const mine = batch.filter((e) => e.id <= safeTo);
      const to = batch.length === BATCH && mine.length === batch.length ? mine.at(-1)!.id : safeTo;
      if (!(await this.events.claim(CURSOR, from, to))) {
        // Another node took these events; carry on from where it left the cursor.
        this.cursor = await this.events.cursor(CURSOR, from);
        continue;
      }
      this.cursor = to;
      for (const e of mine) await this.handle(e);
    }
    for (const s of this.limiter.due(this.clock.now())) await this.dispatch(this.summaryAlert(s));
  }

  private async handle(e: StoreEvent): Promise<void> {
    const m = matchRule(e, this.o.minSeverity);
    if (!m) return;
    if (!this.limiter.admit(e.kind, m.severity, e.at, this.clock.now())) return;
    await this.dispatch({ kind: e.kind, severity: m.severity, host: this.o.host, subject: e.subject, at: e.at, data: e.data, advice: m.rule.advice });
  }

  private summaryAlert(s: AlertSummary): Alert {
    return {
      kind: s.kind,
      severity: s.severity,
      host: this.o.host,
      subject: 'summary',
      at: s.lastAt,
      data: { count: s.count },
      advice: ruleFor(s.kind)?.advice ?? '',
      summary: { count: s.count, firstAt: s.firstAt, lastAt: s.lastAt },
    };
  }

  private async dispatch(a: Alert): Promise<void> {
    for (const c of this.channels) await c.send(a);
  }
}
