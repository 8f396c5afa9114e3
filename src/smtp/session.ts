import type { Logger } from '../metrics/logger.js';
import { ConnectionTable, type ConnectionLimits, type Refusal, type Slot } from '../net/connections.js';
import type { BudgetHold } from '../net/memory-budget.js';
import type { Account, NewRecipient } from '../store/types.js';

/** What postern remembers about one SMTP session, beside smtp-server's own session object. */
export interface SessionState {
  readonly ip: string;
  readonly log: Logger;
  /** The connection slot: pending until established (logged in, or on mx a transaction started). */
  readonly slot: Slot;
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
 * counted from onConnect (when it was admitted) until the server closes it or
 * the client leaves, whichever comes first.
 */
export class SessionTable {
  private readonly sessions = new Map<string, SessionState>();
  private readonly connections: ConnectionTable;

  constructor(limits: ConnectionLimits) {
    this.connections = new ConnectionTable(limits);
  }

  /** Which limit refuses a new session from `ip`, or null to admit it. */
  refusal(ip: string): Refusal | null {
    return this.connections.refusal(ip);
  }

  admit(id: string, ip: string, log: Logger): SessionState {
    const slot = this.connections.admit(ip);
    const s: SessionState = { ip, log, slot, tls: null, account: null, sendable: new Set(), authFailures: 0, sender: '', recipients: new Map(), messages: 0, dataHold: null };
    this.sessions.set(id, s);
    return s;
  }

  /** The session is past its greeting phase; `trusted` (a login) also earns its address the reserve. */
  established(id: string, trusted: boolean): void {
    this.sessions.get(id)?.slot.establish(trusted);
  }

  /** Whether the session reached its established phase (for the login deadline). */
  isEstablished(id: string): boolean {
    return this.sessions.get(id)?.slot.established ?? false;
  }

  get(id: string): SessionState | undefined {
    return this.sessions.get(id);
  }

  /** The server is closing the session: its slot stops counting now, the state stays until release(). */
  leaving(id: string): void {
    this.sessions.get(id)?.slot.release();
  }

  release(id: string): SessionState | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    this.sessions.delete(id);
    s.slot.release();
    s.dataHold?.releaseAll(); // the client left mid-message, or before its message was queued
    s.dataHold = null;
    return s;
  }

  get size(): number {
    return this.sessions.size;
  }
}
