/**
 * At most `max` alerts per kind per window. A window opens with the first
 * event of its kind and lasts `windowMs`; events past the limit are counted,
 * and when the window has ended one summary per kind reports how many were
 * held back and between which times. Memory: one small record per kind.
 */
import { higher, type AlertSeverity } from './rules.js';

export interface AlertSummary {
  readonly kind: string;
  /** The highest severity among the events held back. */
  readonly severity: AlertSeverity;
  readonly count: number;
  /** Times of the first and last event held back. */
  readonly firstAt: number;
  readonly lastAt: number;
}

interface Window {
  start: number;
  sent: number;
  held: number;
  severity: AlertSeverity;
  firstAt: number;
  lastAt: number;
}

export class AlertRateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly ended: AlertSummary[] = [];

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** True when this event may be sent now; false when it is counted for the summary instead. */
  admit(kind: string, severity: AlertSeverity, eventAt: number, now: number): boolean {
    this.close(now);
    let w = this.windows.get(kind);
    if (!w) {
      w = { start: now, sent: 0, held: 0, severity, firstAt: eventAt, lastAt: eventAt };
      this.windows.set(kind, w);
    }
    if (w.sent < this.max) {
      w.sent++;
      return true;
    }
    if (w.held === 0) {
      w.severity = severity;
      w.firstAt = eventAt;
    }
    w.held++;
    w.severity = higher(w.severity, severity);
    w.firstAt = Math.min(w.firstAt, eventAt);
    w.lastAt = Math.max(w.lastAt, eventAt);
    return false;
  }

  /** Summaries of windows that have ended with events held back; each is returned once. */
  due(now: number): AlertSummary[] {
    this.close(now);
    return this.ended.splice(0);
  }

  private close(now: number): void {
    for (const [kind, w] of this.windows) {
      if (now < w.start + this.windowMs) continue;
      this.windows.delete(kind);
      if (w.held > 0) this.ended.push({ kind, severity: w.severity, count: w.held, firstAt: w.firstAt, lastAt: w.lastAt });
    }
  }
}
