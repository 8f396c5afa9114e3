import type { SecureContextOptions } from 'node:tls';
import type { Clock } from '../core/clock.js';
import type { Directory } from '../directory/directory.js';
import type { MailboxRepo } from '../store/types.js';
import type { Logger } from '../metrics/logger.js';
import type { MemoryBudget } from '../net/memory-budget.js';
import type { LoginThrottle } from '../net/throttle.js';
import type { Spool } from '../queue/spool.js';
import type { EventSink, PolicyPipeline } from '../policy/pipeline/index.js';

/** mx: port 25, mail from other servers. submission: 587, STARTTLS. submissions: 465, implicit TLS. */
export type SmtpListenerKind = 'mx' | 'submission' | 'submissions';

export interface SmtpLimits {
  /** Largest message accepted, in bytes, as the client sends it (before the Received header). */
  maxMessageSize: number;
  /** RCPT commands accepted in one transaction. */
  maxRecipients: number;
  /** Open sessions on one listener. */
  maxConnections: number;
  /** Open sessions on one listener from one client address. */
  maxConnectionsPerClient: number;
  /** Idle time allowed while the client owes us input. */
  socketTimeoutMs: number;
  /** Open sessions from one client address not yet established (submission: logged in; mx: MAIL FROM accepted). */
  maxPendingPerClient: number;
  /** Slots at the top of maxConnections kept for addresses with few connections or a past login. */
  reservedConnections: number;
  /** From connect until the session is established, whatever the client sends meanwhile. */
  loginTimeoutMs: number;
  /** A command line must be complete this long after its first byte. */
  commandTimeoutMs: number;
  /** Slowest average rate for DATA, in bytes per second, once commandTimeoutMs has passed. */
  minTransferRate: number;
  /** What to do with a bare CR or LF in message data (a bare CR is always refused). */
  bareNewline: 'reject' | 'normalize';
  /** mx only: wait before the greeting and refuse a client that talks first (554 5.5.1); 0 or absent greets at once. */
  greetPauseMs?: number;
}

export interface SmtpDeps {
  hostname: string;
  directory: Directory;
  spool: Spool;
  clock: Clock;
  log: Logger;
  /** Must hold the server's own cert and key: smtp-server would otherwise fall back to its published test key. */
  tls: SecureContextOptions;
  limits: SmtpLimits;
  /** Shared between listeners, so guessing on 587 and 465 counts together. */
  authThrottle: LoginThrottle;
  /** The process-wide budget for message bytes in memory, shared with every listener (IMAP APPEND too). */
  memoryBudget: MemoryBudget;
  /** The policy stages every message passes; none when absent. */
  policy?: PolicyPipeline;
  /** Mailbox usage, for refusing a recipient whose mailbox is full at RCPT; without it quota is left to delivery. */
  mailboxes?: MailboxRepo;
  /** Where counted facts go (e.g. a user sending as someone else); must not throw. */
  events?: EventSink;
}

export interface SmtpListener {
  readonly kind: SmtpListenerKind;
  /** Binds and resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, tells idle clients 421, gives busy ones a short grace period. */
  close(): Promise<void>;
}
