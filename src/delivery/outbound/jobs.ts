/**
 * Leased recipients grouped into jobs: one job is one message to one
 * destination, sent as one SMTP transaction with several RCPTs.
 */
import { domainOf } from '../../core/address.js';
import type { Lease, QueueMessage } from '../../store/types.js';
import { relayFor, type Destination, type RelayOptions } from './connect.js';

export interface Job {
  readonly dest: Destination;
  readonly message: QueueMessage;
  readonly leases: readonly Lease[];
}

/** RFC 8689: the message must travel over verified TLS only. */
export function requiresTls(m: QueueMessage): boolean {
  return m.meta.requireTls === true;
}

export function destinationFor(domain: string, requireTls: boolean, relay: RelayOptions | null | undefined): Destination {
  const r = relayFor(domain, relay);
  const key = `${r ? `relay:${r.host}:${r.port}` : domain}${requireTls ? '|requiretls' : ''}`;
  return { key, domain, relay: r, requireTls };
}

export function groupLeases(leases: readonly Lease[], relay: RelayOptions | null | undefined): Job[] {
  const jobs = new Map<string, { dest: Destination; message: QueueMessage; leases: Lease[] }>();
  for (const l of leases) {
    const domain = domainOf(l.recipient.address);
    const dest = destinationFor(domain, requiresTls(l.message), relay);
    // A relay takes every domain in one transaction; otherwise one per recipient domain.
    const k = `${l.message.id}\u0000${dest.relay ? dest.key : domain}`;
    const j = jobs.get(k);
    if (j) j.leases.push(l);
    else jobs.set(k, { dest, message: l.message, leases: [l] });
  }
  return [...jobs.values()];
}
