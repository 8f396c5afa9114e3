import type { MailAccessDeps } from '../mailbox/access.js';

/** stls: port 110, plaintext until STLS (RFC 2595). tls: port 995, TLS from the first byte. */
export type Pop3Mode = 'stls' | 'tls';

export interface Pop3Limits {
  /** Open sessions on one listener. */
  maxConnections: number;
  /** Open sessions on one listener from one client address. */
  maxConnectionsPerClient: number;
  /** Inactivity after which the connection is closed without entering UPDATE (RFC 1939: at least 10 minutes). */
  idleTimeoutMs: number;
  /** Open sessions from one client address that have not logged in yet. */
  maxPendingPerClient: number;
  /** Slots at the top of maxConnections kept for addresses with few connections or a past login. */
  reservedConnections: number;
  /** From connect to a successful login, whatever the client sends meanwhile. */
  loginTimeoutMs: number;
  /** A command line must be complete this long after its first byte; also how long a reply may wait unread. */
  commandTimeoutMs: number;
}

export const DEFAULT_POP3_LIMITS: Readonly<Pop3Limits> = Object.freeze({
  maxConnections: 500,
  maxConnectionsPerClient: 20,
  idleTimeoutMs: 10 * 60_000,
  maxPendingPerClient: 10,
  reservedConnections: 50,
  loginTimeoutMs: 120_000,
  commandTimeoutMs: 60_000,
});

export interface Pop3Deps extends MailAccessDeps {
  limits: Pop3Limits;
}

export interface Pop3Listener {
  /** Binds and resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, closes idle sessions, lets a running command finish; nothing is expunged without QUIT. */
  close(): Promise<void>;
}
