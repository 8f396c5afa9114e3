import type { SecureContextOptions } from 'node:tls';
import type { Clock } from '../core/clock.js';
import type { Directory } from '../directory/directory.js';
import type { Logger } from '../metrics/logger.js';
import type { LineLimits } from '../net/line-protocol/listener.js';
import type { LoginThrottle } from '../net/throttle.js';
import type { SieveRepo } from '../store/types.js';

/** Connection limits and deadlines of the listener (see LineLimits). */
export type ManageSieveLimits = LineLimits;

export const DEFAULT_MANAGESIEVE_LIMITS: Readonly<ManageSieveLimits> = Object.freeze({
  maxConnections: 200,
  maxConnectionsPerClient: 10,
  maxPendingPerClient: 5,
  reservedConnections: 20,
  idleTimeoutMs: 30 * 60_000,
  loginTimeoutMs: 60_000,
  commandTimeoutMs: 60_000,
});

export interface ManageSieveDeps {
  hostname: string;
  directory: Directory;
  sieve: SieveRepo;
  clock: Clock;
  log: Logger;
  /** The server's own certificate and key (required). */
  tls: SecureContextOptions;
  /** Shared with the other listeners, so guessing a password counts the same on every port. */
  authThrottle: LoginThrottle;
  limits: ManageSieveLimits;
  /** The Sieve extensions delivery supports (the SIEVE capability). */
  extensions: readonly string[];
  /**
   * Checks a script before PUTSCRIPT stores it and for CHECKSCRIPT: null when
   * it is valid, otherwise the error to show the user. Without it, any UTF-8
   * text within the size limit is accepted.
   */
  validate?: (text: string) => string | null;
  /** Where measured events go (metrics/events.ts); optional in tests. */
  events?: { record(kind: string, subject: string, data: Record<string, unknown>): void };
}

export interface ManageSieveListener {
  /** Binds and resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, closes idle sessions, lets a running command finish. */
  close(): Promise<void>;
}
