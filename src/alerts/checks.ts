/**
 * The two periodic checks that raise alertable events: the [tls]
 * certificate's remaining days (`tls.cert_expiring`) and the age of the
 * oldest waiting queue message (`queue.old`). An event is recorded when a
 * check turns bad, and again once a day while it stays bad, so a lasting
 * problem neither floods nor goes quiet.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Clock } from '../core/clock.js';
import type { QueueRepo } from '../store/types.js';

export const DAY_MS = 86_400_000;

export interface EventSink {
  record(kind: string, subject: string, data: Record<string, unknown>): void;
}

/** Records `kind` on a change from good to bad, and every `repeatMs` while bad. */
export class StateCheck {
  private badSince: number | null = null;
  private lastRecorded = 0;

  constructor(
    private readonly kind: string,
    private readonly sink: EventSink,
    private readonly clock: Clock,
    private readonly repeatMs = DAY_MS,
  ) {}

  update(bad: boolean, subject: string, data: Record<string, unknown>): boolean {
    const now = this.clock.now();
    if (!bad) {
      this.badSince = null;
      return false;
    }
    if (this.badSince !== null && now - this.lastRecorded < this.repeatMs) return false;
    this.badSince ??= now;
    this.lastRecorded = now;
    this.sink.record(this.kind, subject, data);
    return true;
  }
}

/** Whole days until the first certificate in a PEM file expires (negative once expired). */
export async function certDaysLeft(file: string, now: number): Promise<number> {
  const pem = await readFile(file, 'utf8');
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!first) throw new Error(`no certificate in ${file}`);
  const until = Date.parse(new X509Certificate(first[0]).validTo);
  return Math.floor((until - now) / DAY_MS);
}

export async function checkCert(check: StateCheck, file: string, warnDays: number, now: number): Promise<void> {
  const days = await certDaysLeft(file, now);
  check.update(days <= warnDays, 'tls', { days, file });
}

export async function checkQueue(check: StateCheck, queue: QueueRepo, warnMs: number, now: number): Promise<void> {
  const age = await queue.oldestAge(now);
  check.update(age !== null && age > warnMs, 'queue', { age_s: age === null ? 0 : Math.floor(age / 1000) });
}
