import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Structured logs. Every line about a message carries `queueId`; use
 * `log.child({ queueId })` once the id is known so no line can forget it.
 */
export function createLogger(level: string, dest?: DestinationStream): Logger {
  return pino({ level, base: { svc: 'postern' }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** A logger that drops everything, for tests that do not read logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** The server's logger and the means to empty its buffer. */
export interface ServerLogger {
  readonly log: Logger;
  /** Resolves once every line logged so far is written (for an orderly shutdown). */
  flush(): Promise<void>;
  /** Writes every buffered line now, blocking (for a process about to exit on a fatal error). */
  flushSync(): void;
}

/** Lines are written once this much is buffered, or after BUFFER_MS. */
const BUFFER_BYTES = 4096;
const BUFFER_MS = 250;
/** The longest a shutdown waits for the output to take the buffered lines. */
const FLUSH_WAIT_MS = 2000;

/**
 * The long-running server's logger: lines go to `fd` (stdout) through a
 * buffer written off the event loop, instead of one blocking write per line,
 * which was a share of every message's main-thread time. The trade-off: a
 * line reaches the output up to BUFFER_MS late, and a process killed with
 * SIGKILL (or a power failure) loses at most the last few KiB of log. Mail and
 * the events table are unaffected. A normal exit, process.exit() included,
 * writes the buffer out synchronously (pino's exit hook); the shutdown path
 * awaits `flush()` before exiting.
 */
export function createServerLogger(level: string, fd = 1): ServerLogger {
  const dest = pino.destination({ dest: fd, sync: false, minLength: BUFFER_BYTES, periodicFlush: BUFFER_MS });
  const log = createLogger(level, dest);
  return {
    log,
    flush: () =>
      new Promise<void>((resolve) => {
        // A write error (a closed stdout) has nowhere to be reported, and a stalled
        // reader must not hold the shutdown: it goes on either way.
        setTimeout(resolve, FLUSH_WAIT_MS).unref();
        dest.flush(() => resolve());
      }),
    flushSync: () => {
      try {
        dest.flushSync();
      } catch {
        // Not opened yet or already closed: nothing buffered can be written.
      }
    },
  };
}
