/**
 * The DNS lookups mail delivery needs, behind one interface so tests hand in
 * a fake. Answers are data, never exceptions: a timeout or SERVFAIL is
 * `temperror`, and every positive or negative answer says whether the
 * resolver vouched for it with DNSSEC (the AD bit).
 */
export type DnsAnswer<T> =
  | { readonly status: 'ok'; readonly records: readonly T[]; readonly authenticated: boolean; readonly ttl?: number }
  | { readonly status: 'nxdomain' | 'nodata'; readonly authenticated: boolean; readonly ttl?: number }
  | { readonly status: 'temperror'; readonly reason: string };

export interface MxRecord {
  readonly exchange: string; // lower-case, no trailing dot; '' for a null MX (".")
  readonly preference: number;
}

export interface TlsaRecord {
  readonly usage: number;
  readonly selector: number;
  readonly matchingType: number;
  readonly data: Buffer;
}

export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string; // lower-case, no trailing dot; '' for "." (service not offered)
}

export interface DnsResolver {
  mx(name: string): Promise<DnsAnswer<MxRecord>>;
  a(name: string): Promise<DnsAnswer<string>>;
  aaaa(name: string): Promise<DnsAnswer<string>>;
  /** Each record's character-strings joined, as RFC 7208/8461 read them. */
  txt(name: string): Promise<DnsAnswer<string>>;
  /** TLSA records; trust them only when `authenticated` (RFC 7672). */
  tlsa(name: string): Promise<DnsAnswer<TlsaRecord>>;
  /** PTR names for a reverse name (`4.3.2.1.in-addr.arpa`); optional, SPF's `ptr` mechanism alone uses it. */
  ptr?(name: string): Promise<DnsAnswer<string>>;
  /** SRV records (RFC 2782); optional, only the check of published records uses it. */
  srv?(name: string): Promise<DnsAnswer<SrvRecord>>;
  /** The CNAME target of a name, canonical; optional, only the check of published records uses it. */
  cname?(name: string): Promise<DnsAnswer<string>>;
}

export function answerRecords<T>(a: DnsAnswer<T>): readonly T[] {
  return a.status === 'ok' ? a.records : [];
}

/** Lower-case, no trailing dot: the one spelling every comparison uses. */
export function canonicalName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}
