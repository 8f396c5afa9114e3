/**
 * Last line of defence for the server process. Node 20 exits on an unhandled
 * promise rejection; every promise in postern is meant to be awaited or to
 * carry its own handler (lint enforces it), so one that escapes is a bug in a
 * single operation, not a reason to drop every client's connection. It is
 * logged, counted and recorded as an event, and the server keeps serving. An
 * uncaught exception is different: the stack it unwound may have left shared
 * state half-changed, so it is logged and the process exits for the
 * supervisor to restart it (acknowledged mail is on disk, so nothing is lost).
 */
import type { Logger } from '../metrics/logger.js';

export interface ProcessGuard {
  /** Unhandled rejections seen since start. */
  readonly unhandled: number;
  dispose(): void;
}

export function installProcessGuard(
  log: Logger,
  record: (kind: string, data: Record<string, unknown>) => Promise<unknown>,
  exit: (code: number) => void = (code) => process.exit(code),
): ProcessGuard {
  let unhandled = 0;
  const onRejection = (reason: unknown) => {
    unhandled++;
    const err = reason instanceof Error ? reason : new Error(String(reason));
    log.error({ err, unhandled }, 'unhandled promise rejection (bug); the server keeps serving');
    record('process.unhandled_rejection', { message: err.message.slice(0, 500), count: unhandled }).catch(() => undefined);
  };
  const onException = (err: Error) => {
    log.fatal({ err }, 'uncaught exception; exiting so the supervisor restarts postern');
    exit(70);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    get unhandled() {
      return unhandled;
    },
    dispose() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}
