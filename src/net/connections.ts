import { clientKey } from './client-key.js';

/** Connection limits of one listener. */
export interface ConnectionLimits {
  /** Open connections in total. */
  maxTotal: number;
  /** Open connections from one client address. */
  maxPerClient: number;
  /**
   * Connections from one address that have not logged in yet (on mx: not yet
   * started a transaction). Slow or idle clients hold exactly these, so a few
   * addresses cannot park hundreds of them.
   */
  maxPendingPerClient: number;
  /**
   * The last slots of maxTotal, kept for addresses that hold fewer than
   * RESERVE_MAX_HELD connections or that logged in successfully before.
   */
  reserved: number;
}

/** The connection limits as every listener's limits object names them. */
export function connectionLimits(l: { maxConnections: number; maxConnectionsPerClient: number; maxPendingPerClient: number; reservedConnections: number }): ConnectionLimits {
  return { maxTotal: l.maxConnections, maxPerClient: l.maxConnectionsPerClient, maxPendingPerClient: l.maxPendingPerClient, reserved: l.reservedConnections };
}

/** Connections an address may already hold and still get a reserved slot. */
export const RESERVE_MAX_HELD = 2;
/** Addresses remembered as having logged in (least recently used forgotten first). */
const MAX_KNOWN = 10_000;

export type Refusal = 'total' | 'client';

/** One admitted connection: mark it established once it logged in (or started a transaction), release it on close. */
export interface Slot {
  /** Moves the connection out of the pending count; `trusted` also remembers the address for the reserve. */
  establish(trusted: boolean): void;
  readonly established: boolean;
  release(): void;
}

interface PerClient {
  held: number;
  pending: number;
}

/**
 * Connection limits of one listener: in total, per client (an IPv4 address or
 * an IPv6 /64, see clientKey), per client
 * address before login, and a reserve of slots that a burst from a few
 * addresses cannot take, so a flood from some addresses leaves room for others.
 */
export class ConnectionTable {
  private total = 0;
  private readonly perClient = new Map<string, PerClient>();
  private readonly known = new Map<string, true>();
  private readonly limits: ConnectionLimits;

  constructor(limits: ConnectionLimits) {
    this.limits = { ...limits, reserved: Math.max(0, Math.min(limits.reserved, limits.maxTotal - 1)) };
  }

  /** Which limit refuses a new connection from `ip`, or null to admit it. */
  refusal(address: string): Refusal | null {
    const ip = clientKey(address);
    const c = this.perClient.get(ip) ?? { held: 0, pending: 0 };
    const { maxTotal, maxPerClient, maxPendingPerClient, reserved } = this.limits;
    if (c.held >= maxPerClient || c.pending >= maxPendingPerClient) return 'client';
    if (this.total >= maxTotal) return 'total';
    if (this.total >= maxTotal - reserved && c.held >= RESERVE_MAX_HELD && !this.known.has(ip)) return 'total';
    return null;
  }

  /** Counts a new connection from `ip` (call after refusal() said null). */
  admit(address: string): Slot {
    const ip = clientKey(address);
    this.total++;
    const c = this.perClient.get(ip) ?? { held: 0, pending: 0 };
    c.held++;
    c.pending++;
    this.perClient.set(ip, c);
    let established = false;
    let released = false;
    return {
      establish: (trusted: boolean) => {
        if (trusted) this.remember(ip);
        if (established || released) return;
        established = true;
        c.pending--;
      },
      get established() {
        return established;
      },
      release: () => {
        if (released) return;
        released = true;
        this.total = Math.max(0, this.total - 1);
        c.held--;
        if (!established) c.pending--;
        if (c.held <= 0) this.perClient.delete(ip);
      },
    };
  }

  private remember(ip: string): void {
    this.known.delete(ip);
    this.known.set(ip, true);
    if (this.known.size > MAX_KNOWN) this.known.delete(this.known.keys().next().value as string);
  }

  get size(): number {
    return this.total;
  }
}
