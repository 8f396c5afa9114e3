/**
 * A bounded answer cache in front of a resolver: answers are kept for their
 * TTL (clamped), negative answers for a short fixed time, temporary errors
 * never. Concurrent lookups of one name share one query. Sender
 * authentication asks the same SPF, DKIM and DMARC records for every message
 * of a burst; this keeps that to one query per record and TTL.
 */
import { canonicalName, type DnsAnswer, type DnsResolver, type MxRecord, type TlsaRecord } from './types.js';

export interface CacheOptions {
  readonly maxEntries?: number;
  readonly minTtlSec?: number;
  readonly maxTtlSec?: number;
  readonly negativeTtlSec?: number;
  readonly now?: () => number;
}

type Kind = 'mx' | 'a' | 'aaaa' | 'txt' | 'tlsa' | 'ptr';

export class CachingResolver implements DnsResolver {
  private readonly entries = new Map<string, { expires: number; answer: DnsAnswer<unknown> }>();
  private readonly inflight = new Map<string, Promise<DnsAnswer<unknown>>>();
  private readonly max: number;
  private readonly now: () => number;
  hits = 0;
  misses = 0;

  constructor(
    private readonly inner: DnsResolver,
    private readonly opts: CacheOptions = {},
  ) {
    this.max = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  mx(name: string): Promise<DnsAnswer<MxRecord>> {
    return this.get('mx', name) as Promise<DnsAnswer<MxRecord>>;
  }
  a(name: string): Promise<DnsAnswer<string>> {
    return this.get('a', name) as Promise<DnsAnswer<string>>;
  }
  aaaa(name: string): Promise<DnsAnswer<string>> {
    return this.get('aaaa', name) as Promise<DnsAnswer<string>>;
  }
  txt(name: string): Promise<DnsAnswer<string>> {
    return this.get('txt', name) as Promise<DnsAnswer<string>>;
  }
  tlsa(name: string): Promise<DnsAnswer<TlsaRecord>> {
    return this.get('tlsa', name) as Promise<DnsAnswer<TlsaRecord>>;
  }
  ptr(name: string): Promise<DnsAnswer<string>> {
    return this.get('ptr', name) as Promise<DnsAnswer<string>>;
  }

  /**
   * How much longer the cached answer to this lookup stays fresh, in ms; 0 when
   * none is cached (never asked, expired, or a temperror). The policy pool's
   * DNS proxy passes it on so a worker thread keeps the answer no longer.
   */
  freshForMs(kind: Kind, name: string): number {
    const hit = this.entries.get(`${kind} ${canonicalName(name)}`);
    return hit ? Math.max(0, hit.expires - this.now()) : 0;
  }

  private async get(kind: Kind, name: string): Promise<DnsAnswer<unknown>> {
    const key = `${kind} ${canonicalName(name)}`;
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) {
      this.hits++;
      return hit.answer;
    }
    if (hit) this.entries.delete(key);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    this.misses++;
    const p = this.ask(kind, name).then((answer) => {
      this.store(key, answer);
      return answer;
    });
    this.inflight.set(key, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(key);
    }
  }

  private async ask(kind: Kind, name: string): Promise<DnsAnswer<unknown>> {
    try {
      if (kind === 'ptr') return this.inner.ptr ? await this.inner.ptr(name) : { status: 'nxdomain', authenticated: false };
      return await this.inner[kind](name);
    } catch (e) {
      return { status: 'temperror', reason: e instanceof Error ? e.message : String(e) };
    }
  }

  private store(key: string, answer: DnsAnswer<unknown>): void {
    if (answer.status === 'temperror') return;
    const min = this.opts.minTtlSec ?? 5;
    const max = this.opts.maxTtlSec ?? 3600;
    const ttl = answer.status === 'ok' ? Math.min(max, Math.max(min, Number.isFinite(answer.ttl) ? answer.ttl! : 300)) : (this.opts.negativeTtlSec ?? 60);
    // Oldest first: a Map iterates in insertion order.
    while (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { expires: this.now() + ttl * 1000, answer });
  }
}
