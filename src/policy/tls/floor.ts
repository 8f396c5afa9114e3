/**
 * A TLS floor: the least a session must achieve whatever route it takes.
 * A relay (smart host) has a level of its own, but mail for a destination
 * whose policy asks for TLS must not cross to the relay with less: the relay
 * session is held to the stricter of the two. A destination's level becomes
 * a floor for the relay hop as follows:
 *
 *   none, may          -> none     (nothing to protect beyond the relay's own level)
 *   encrypt            -> encrypt  (TLS, any certificate)
 *   verify             -> verify   (TLS, certificate valid for the relay's name)
 *   dane, dane-only    -> verify   the destination's TLSA records name its MX
 *                                  hosts, not the relay, so they cannot be checked
 *                                  on this hop; what they ask for is an
 *                                  authenticated peer, and for the relay that is
 *                                  a PKIX-verified certificate (or the relay's own
 *                                  dane-only level, which authenticates as well)
 *   mta-sts            -> verify   an enforced MTA-STS policy means Web PKI-verified
 *                                  TLS; its MX patterns name the destination's
 *                                  hosts and do not apply to the relay
 *
 * The floor is a hook as well: anything that decides a message needs TLS (a
 * content verdict, recorded as `meta.tlsFloor` on the queue entry) raises it
 * for every route, relay or MX.
 */
import type { HostPolicyResult } from './resolve.js';
import type { TlsLevel } from './types.js';

export const TLS_FLOORS = ['none', 'encrypt', 'verify'] as const;
export type TlsFloor = (typeof TLS_FLOORS)[number];

const FLOOR_RANK: Record<TlsFloor, number> = { none: 0, encrypt: 1, verify: 2 };

export function isTlsFloor(x: unknown): x is TlsFloor {
  return typeof x === 'string' && (TLS_FLOORS as readonly string[]).includes(x);
}

export function stricterFloor(a: TlsFloor, b: TlsFloor): TlsFloor {
  return FLOOR_RANK[a] >= FLOOR_RANK[b] ? a : b;
}

/** What a destination's level requires of a relay that carries its mail (see above). */
export function relayFloorFor(destination: TlsLevel): TlsFloor {
  switch (destination) {
    case 'none':
    case 'may':
      return 'none';
    case 'encrypt':
      return 'encrypt';
    case 'verify':
    case 'dane':
    case 'dane-only':
    case 'mta-sts':
      return 'verify';
  }
}

/**
 * What a relay's own level guarantees whatever the relay host publishes:
 * `dane` and `mta-sts` may end as `may` (no TLSA records, no policy for a
 * host name), `dane-only` authenticates like `verify`.
 */
export function guaranteedFloor(level: TlsLevel): TlsFloor {
  switch (level) {
    case 'encrypt':
      return 'encrypt';
    case 'verify':
    case 'dane-only':
      return 'verify';
    default:
      return 'none';
  }
}

/**
 * Raises a host policy to a floor: `encrypt` makes TLS required, `verify`
 * also requires a certificate valid for `host` (unless the policy already
 * authenticates, e.g. with DANE). A raised policy is enforced, so a
 * testing-mode warning becomes a failure. Refusals stay refusals.
 */
export function raiseToFloor(p: HostPolicyResult, floor: TlsFloor, host: string): HostPolicyResult {
  if ('refused' in p || floor === 'none') return p;
  const needAuth = floor === 'verify' && p.auth === 'none';
  if (p.tls === 'required' && p.enforce && !needAuth) return p;
  const { warning: _warning, ...policy } = p;
  return {
    ...policy,
    tls: 'required',
    auth: needAuth ? 'pkix' : policy.auth,
    names: needAuth && policy.names.length === 0 ? [host] : policy.names,
    enforce: true,
  };
}
