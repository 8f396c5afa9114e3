import type { MailAccessDeps } from '../mailbox/access.js';
import type { MemoryBudget } from '../net/memory-budget.js';
import type { UrlauthKeyRepo } from '../store/types.js';
import type { NotifyLimits } from './notify.js';

export interface ImapLimits {
  /** Open connections on one listener. */
  maxConnections: number;
  /** Open connections on one listener from one client address (each listener counts its own, as SMTP does). */
  maxConnectionsPerClient: number;
  /** Largest literal (an APPENDed message); also advertised as APPENDLIMIT. */
  maxLiteralSize: number;
  /** Longest command line, literals excluded. */
  maxLineLength: number;
  /** Inactivity allowed once logged in; RFC 9051 5.4 asks for at least 30 minutes. */
  idleTimeoutMs: number;
  /** Time allowed before a successful login (and inactivity before it). */
  preAuthTimeoutMs: number;
  /** Open connections from one client address that have not logged in yet. */
  maxPendingPerClient: number;
  /** Slots at the top of maxConnections kept for addresses with few connections or a past login. */
  reservedConnections: number;
  /** A command line must be complete this long after its first byte; also how long output may wait unread. */
  commandTimeoutMs: number;
  /** Slowest average rate for a literal, in bytes per second, once commandTimeoutMs has passed. */
  minTransferRate: number;
}

export interface ImapDeps extends MailAccessDeps {
  limits: ImapLimits;
  /** The process-wide budget for message bytes in memory (shared with SMTP); APPEND literals draw on it. Absent: no budget. */
  memoryBudget?: MemoryBudget;
  /** URLAUTH mailbox access keys (RFC 4467); absent: URLAUTH is neither offered nor served. */
  urlauthKeys?: UrlauthKeyRepo;
  /** NOTIFY bounds (RFC 5465); absent: DEFAULT_NOTIFY_LIMITS. */
  notify?: Partial<NotifyLimits>;
}

export interface ImapListener {
  /** Binds and resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, says BYE to every client and waits for them to go. */
  close(): Promise<void>;
  /** Open connections (TLS handshakes in progress included). */
  connectionCount(): number;
}

export type ImapMode = 'starttls' | 'tls';

/** Limits when the configuration names none (the APPEND limit follows smtp.max_message_size in the server). */
export const DEFAULT_IMAP_LIMITS: ImapLimits = {
  maxConnections: 10_000,
  maxConnectionsPerClient: 100,
  maxLiteralSize: 25 * 1024 * 1024,
  maxLineLength: 64 * 1024,
  idleTimeoutMs: 30 * 60_000,
  preAuthTimeoutMs: 60_000,
  maxPendingPerClient: 10,
  reservedConnections: 1000,
  commandTimeoutMs: 60_000,
  minTransferRate: 1024,
};
