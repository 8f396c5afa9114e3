/**
 * The one way delivery code reports a failure it leaves to a retry: a logged
 * error and a store event (`delivery.error`), never a throw. A store that
 * fails while recording an outcome leaves the recipient leased; the lease
 * expires and the recipient is tried again, so nothing is lost and nothing
 * crashes the process. Recording the event may fail too (the store is the
 * thing that broke): that is logged and swallowed.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../metrics/logger.js';
import type { EventRepo } from '../store/types.js';

export interface FailureSink {
  readonly log: Logger;
  readonly events: EventRepo;
  readonly clock: Clock;
}

export const DELIVERY_ERROR_EVENT = 'delivery.error';

export async function reportFailure(s: FailureSink, subject: string, what: string, err: unknown, data: Record<string, unknown> = {}): Promise<void> {
  const reason = err instanceof Error ? err.message : String(err);
  try {
    s.log.error({ err, what, ...data }, `${what} failed; left to a retry`);
    await s.events.record(DELIVERY_ERROR_EVENT, subject, { what, reason, ...data }, s.clock.now());
  } catch (e) {
    try {
      s.log.error({ err: e, what }, 'delivery error could not be recorded as an event');
    } catch {
      // A logger that throws has nowhere left to report to.
    }
  }
}

/** Runs a fire-and-forget task: its failure is reported, never an unhandled rejection. */
export function detach(s: FailureSink, subject: string, what: string, task: () => Promise<unknown>): void {
  let p: Promise<unknown>;
  try {
    p = task();
  } catch (e) {
    p = Promise.reject(e);
  }
  p.catch((e: unknown) => reportFailure(s, subject, what, e)).catch(() => undefined);
}
