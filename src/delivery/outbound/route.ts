/**
 * Where mail for a domain goes (RFC 5321 5.1): its MX hosts by preference
 * (equal preferences in random order), the domain itself when it has no MX
 * (implicit MX), nowhere when it publishes a null MX (RFC 7505).
 */
import { isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import type { DnsAnswer, DnsResolver } from '../../net/dns/types.js';

export interface RouteHost {
  readonly host: string;
  readonly preference: number;
  /** The host name came from a DNSSEC-authenticated MX answer, or from configuration. */
  readonly authenticated: boolean;
}

export type Route =
  | { readonly ok: true; readonly hosts: readonly RouteHost[] }
  | { readonly ok: false; readonly permanent: boolean; readonly status: string; readonly reason: string };

const MAX_MX = 10;

export async function resolveRoute(domain: string, resolver: DnsResolver): Promise<Route> {
  const mx = await resolver.mx(domain);
  if (mx.status === 'temperror') return { ok: false, permanent: false, status: '4.4.3', reason: `MX lookup for ${domain} failed: ${mx.reason}` };
  if (mx.status === 'nxdomain') return { ok: false, permanent: true, status: '5.1.2', reason: `domain ${domain} does not exist` };
  if (mx.status !== 'ok') return { ok: true, hosts: [{ host: domain, preference: 0, authenticated: mx.authenticated }] };
  if (mx.records.some((r) => r.exchange === '')) {
    return { ok: false, permanent: true, status: '5.1.10', reason: `${domain} accepts no mail (null MX)` };
  }
  const byPref = new Map<number, string[]>();
  for (const r of mx.records) {
    if (isIP(r.exchange)) continue; // an MX must name a host, not an address
    const list = byPref.get(r.preference) ?? [];
    if (!list.includes(r.exchange)) list.push(r.exchange);
    byPref.set(r.preference, list);
  }
  const hosts: RouteHost[] = [];
  for (const pref of [...byPref.keys()].sort((a, b) => a - b)) {
    for (const host of shuffle(byPref.get(pref)!)) hosts.push({ host, preference: pref, authenticated: mx.authenticated });
  }
  if (hosts.length === 0) return { ok: false, permanent: true, status: '5.4.4', reason: `${domain} has no usable MX host` };
  return { ok: true, hosts: hosts.slice(0, MAX_MX) };
}

export type Addresses = { readonly ok: true; readonly addresses: readonly string[] } | { readonly ok: false; readonly permanent: boolean; readonly reason: string };

/** IPv4 first, then IPv6, at most `max`. */
export async function hostAddresses(host: string, resolver: DnsResolver, max = 4): Promise<Addresses> {
  if (isIP(host)) return { ok: true, addresses: [host] };
  const [a, aaaa] = await Promise.all([resolver.a(host), resolver.aaaa(host)]);
  const addresses = [...(a.status === 'ok' ? a.records : []), ...(aaaa.status === 'ok' ? aaaa.records : [])].filter((x) => isIP(x)).slice(0, max);
  if (addresses.length > 0) return { ok: true, addresses };
  if (a.status === 'temperror' || aaaa.status === 'temperror') return { ok: false, permanent: false, reason: `address lookup for ${host} failed` };
  return { ok: false, permanent: a.status === 'nxdomain', reason: `${host} has no address` };
}

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(0, i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * A resolver whose failures are answers: a lookup that throws (a resolver
 * that is gone, a bug in one) reads as `temperror`, so routing defers the
 * mail like any other DNS failure instead of failing the job.
 */
export function answeringResolver(r: DnsResolver): DnsResolver {
  const guard =
    <T>(f: (name: string) => Promise<DnsAnswer<T>>) =>
    async (name: string): Promise<DnsAnswer<T>> => {
      try {
        return await f.call(r, name);
      } catch (e) {
        return { status: 'temperror', reason: e instanceof Error ? e.message : String(e) };
      }
    };
  return { mx: guard(r.mx), a: guard(r.a), aaaa: guard(r.aaaa), txt: guard(r.txt), tlsa: guard(r.tlsa) };
}
