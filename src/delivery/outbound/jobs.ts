/**
 * Leased recipients grouped into jobs: one job is one message to one
 * destination, sent as one SMTP transaction with several RCPTs.
 */
import { domainOf } from '../../core/address.js';
import type { Lease, QueueMessage } from '../../store/types.js';
import { isTlsFloor, relayFloorFor, stricterFloor, type TlsFloor, type TlsLevel } from '../../policy/tls/index.js';
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

/** A floor a stage recorded on the message (e.g. a "require TLS" content verdict): it holds on every route. */
export function messageTlsFloor(m: QueueMessage): TlsFloor {
  return isTlsFloor(m.meta.tlsFloor) ? m.meta.tlsFloor : 'none';
}

/** The configured level of a destination domain (`[delivery.tls_policy]`). */
export type LevelOf = (domain: string) => TlsLevel;

/**
 * The route and the floor its session must meet: a relay carries a
 * destination's mail with at least what the destination's own policy asks
 * for (policy/tls/floor.ts), and never less than the message's floor.
 */
export function destinationFor(domain: string, requireTls: boolean, relay: RelayOptions | null | undefined, levelOf?: LevelOf, floor: TlsFloor = 'none'): Destination {
  const r = relayFor(domain, relay);
  const tlsFloor = r && levelOf ? stricterFloor(floor, relayFloorFor(levelOf(domain))) : floor;
  // Jobs share a session only when it was opened for the same floor.
  const key = `${r ? `relay:${r.host}:${r.port}` : domain}${requireTls ? '|requiretls' : ''}${tlsFloor !== 'none' ? `|floor:${tlsFloor}` : ''}`;
  return { key, domain, relay: r, requireTls, tlsFloor };
}

export function groupLeases(leases: readonly Lease[], relay: RelayOptions | null | undefined, levelOf?: LevelOf): Job[] {
  const jobs = new Map<string, { dest: Destination; message: QueueMessage; leases: Lease[] }>();
  for (const l of leases) {
    const domain = domainOf(l.recipient.address);
    const dest = destinationFor(domain, requiresTls(l.message), relay, levelOf, messageTlsFloor(l.message));
    // A relay takes every domain in one transaction; otherwise one per recipient domain.
    const k = `${l.message.id}\u0000${dest.relay ? dest.key : domain}`;
    const j = jobs.get(k);
    if (j) j.leases.push(l);
    else jobs.set(k, { dest, message: l.message, leases: [l] });
  }
  return [...jobs.values()];
}
