/**
 * MTA-STS discovery for one recipient domain (RFC 8461 3 and 5.1): the TXT
 * record says which policy id is current; the policy is fetched over HTTPS
 * only when the id changed or the cached copy expired. A fetch that fails
 * falls back to a still-valid cached policy, never to "no policy" while one is
 * cached.
 */
import type { Clock } from '../../../core/clock.js';
import type { DnsResolver } from '../../../net/dns/types.js';
import type { TlsResultType } from '../types.js';
import type { StsCache } from './cache.js';
import type { StsFetcher } from './fetch.js';
import { parseStsPolicy, parseStsTxt, type StsPolicy } from './parse.js';

export type StsLookup =
  | { readonly kind: 'policy'; readonly id: string; readonly policy: StsPolicy; readonly fromCache: boolean }
  | { readonly kind: 'none' }
  /** A policy is announced but could not be obtained, and none is cached: report it, deliver as without one. */
  | { readonly kind: 'error'; readonly resultType: TlsResultType; readonly reason: string };

export class StsResolver {
  private readonly inflight = new Map<string, Promise<StsLookup>>();

  constructor(
    private readonly resolver: DnsResolver,
    private readonly fetcher: StsFetcher,
    private readonly cache: StsCache,
    private readonly clock: Clock,
  ) {}

  lookup(domain: string): Promise<StsLookup> {
    const running = this.inflight.get(domain);
    if (running) return running;
    const p = this.discover(domain).finally(() => this.inflight.delete(domain));
    this.inflight.set(domain, p);
    return p;
  }

  private async discover(domain: string): Promise<StsLookup> {
    const now = this.clock.now();
    const cached = await this.cache.get(domain);
    const valid = cached && cached.expiresAt > now ? cached : null;
    const fallback = (): StsLookup => (valid ? { kind: 'policy', id: valid.id, policy: valid.policy, fromCache: true } : { kind: 'none' });

    const txt = await this.resolver.txt(`_mta-sts.${domain}`);
    const announced = txt.status === 'ok' ? parseStsTxt(txt.records) : null;
    if (!announced) return fallback();
    if (valid && valid.id === announced.id) return fallback();

    const fetched = await this.fetcher(domain);
    if (!fetched.ok) return valid ? fallback() : { kind: 'error', resultType: fetched.resultType, reason: fetched.reason };
    const parsed = parseStsPolicy(fetched.body);
    if (!parsed.ok) return valid ? fallback() : { kind: 'error', resultType: 'sts-policy-invalid', reason: parsed.error };
    await this.cache.set(domain, { id: announced.id, policy: parsed.policy, fetchedAt: now, expiresAt: now + parsed.policy.maxAge * 1000 });
    return { kind: 'policy', id: announced.id, policy: parsed.policy, fromCache: false };
  }
}
