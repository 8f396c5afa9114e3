import type { Logger } from '../metrics/logger.js';
import { ConnectionTable } from '../net/connections.js';
import type { BudgetHold } from '../net/memory-budget.js';
import type { Account, NewRecipient } from '../store/types.js';

/** What postern remembers about one SMTP session, beside smtp-server's own session object. */
export interface SessionState {
  readonly ip: string;
  readonly log: Logger;
  tls: { protocol: string; cipher: string } | null;
  account: Account | null;
  /** Addresses the authenticated account may use as sender (lower-case). */
  sendable: ReadonlySet<string>;
  authFailures: number;
  /** Envelope sender of the current transaction, normalised; '' for the null sender. */
  sender: string;
  /** Accepted RCPT (lower-cased as given) -> where it leads, for the current transaction. */
  recipients: Map<string, NewRecipient[]>;
  messages: number;
  /** Memory-budget bytes of the message being received; released when it ends and at the latest on close. */
  dataHold: BudgetHold | null;
}

/**
 * Sessions of one listener, and the connection limits over them. A session is
 * counted from onConnect (when it was admitted) until onClose.
 */
export class SessionTable {
  private readonly sessions = new Map<string, SessionState>();
  private readonly connections: ConnectionTable;

  constructor(maxTotal: number, maxPerClient: number) {
    this.connections = new ConnectionTable(maxTotal, maxPerClient);
  }

  /** Which limit refuses a new session from `ip`, or null to admit it. */
  refusal(ip: string): 'total' | 'client' | null {
    return this.connections.refusal(ip);
  }

  admit(id: string, ip: string, log: Logger): SessionState {
    const s: SessionState = { ip, log, tls: null, account: null, sendable: new Set(), authFailures: 0, sender: '', recipients: new Map(), messages: 0, dataHold: null };
    this.sessions.set(id, s);
    this.connections.admit(ip);
    return s;
  }

  get(id: string): SessionState | undefined {
    return this.sessions.get(id);
  }

  release(id: string): SessionState | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    this.sessions.delete(id);
    this.connections.release(s.ip);
    s.dataHold?.releaseAll(); // the client left mid-message, or before its message was queued
    s.dataHold = null;
    return s;
  }

  get size(): number {
    return this.sessions.size;
  }
}
