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
