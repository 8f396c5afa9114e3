/**
 * Which destinations a configured relay carries with less TLS than their own
 * policy asks for. Delivery already holds such a relay session to the
 * destination's floor (the mail waits rather than cross in clear); this is
 * for an audit, so an administrator can raise the relay's level instead of
 * finding deferred mail. Pure: the delivery section of the config in, a list
 * out.
 */
import { canonicalName } from '../../net/dns/types.js';
import { guaranteedFloor, relayFloorFor, stricterFloor, type TlsFloor } from './floor.js';
import type { TlsLevel } from './types.js';

/** The `[delivery]` keys this needs (the parsed config's `delivery` section fits). */
export interface RelayAuditInput {
  readonly tls_default: TlsLevel;
  readonly tls_policy: Readonly<Record<string, TlsLevel>>;
  readonly relay?: { readonly host: string; readonly level: TlsLevel; readonly domains: readonly string[] } | undefined;
}

export interface WeakRelayRoute {
  /** The `[delivery.tls_policy]` key, or "*" for `tls_default` (destinations not listed). */
  readonly destination: string;
  readonly destinationLevel: TlsLevel;
  readonly relay: string;
  readonly relayLevel: TlsLevel;
  /** What the relay hop must achieve for this destination's mail. */
  readonly required: TlsFloor;
  /** "all": every domain the key covers goes through the relay; "some": only part of them. */
  readonly routed: 'all' | 'some';
}

/** How much of a policy key's domains a relay domain entry takes: all, some, or none. */
function overlap(key: string, relayDomain: string): 'all' | 'some' | null {
  const k = canonicalName(key);
  const r = canonicalName(relayDomain);
  const kParent = k.startsWith('.');
  const rParent = r.startsWith('.');
  const kd = kParent ? k.slice(1) : k;
  const rd = rParent ? r.slice(1) : r;
  const under = (d: string, parent: string) => d.endsWith(`.${parent}`);
  if (!kParent) {
    if (!rParent) return kd === rd ? 'all' : null;
    return under(kd, rd) ? 'all' : null;
  }
  // The key covers every subdomain of kd.
  if (!rParent) return under(rd, kd) ? 'some' : null;
  if (kd === rd || under(kd, rd)) return 'all';
  return under(rd, kd) ? 'some' : null;
}

export function weakRelayRoutes(d: RelayAuditInput): WeakRelayRoute[] {
  const relay = d.relay;
  if (!relay) return [];
  const has = guaranteedFloor(relay.level);
  const out: WeakRelayRoute[] = [];
  const check = (destination: string, level: TlsLevel, routed: 'all' | 'some') => {
    const required = relayFloorFor(level);
    if (stricterFloor(has, required) !== has) out.push({ destination, destinationLevel: level, relay: relay.host, relayLevel: relay.level, required, routed });
  };
  for (const [key, level] of Object.entries(d.tls_policy)) {
    if (relay.domains.length === 0) {
      check(key, level, 'all');
      continue;
    }
    const hits = relay.domains.map((r) => overlap(key, r)).filter((x) => x !== null);
    if (hits.length > 0) check(key, level, hits.includes('all') ? 'all' : 'some');
  }
  // Destinations not listed get tls_default: the relay carries all of them, or those of its domains no key covers.
  const keys = Object.keys(d.tls_policy);
  if (relay.domains.length === 0) check('*', d.tls_default, 'all');
  else if (relay.domains.some((r) => !keys.some((k) => overlap(r, k) === 'all'))) check('*', d.tls_default, 'some');
  return out;
}
