/**
 * An in-memory zone behind the DnsResolver interface: for tests, and for
 * fixed routes an administrator wants to pin. A name with no records at all
 * is NXDOMAIN; a name with records of other types is NODATA. Each name says
 * whether its answers count as DNSSEC-authenticated.
 */
import { canonicalName, type DnsAnswer, type DnsResolver, type MxRecord, type SrvRecord, type TlsaRecord } from './types.js';

export interface ZoneEntry {
  MX?: MxRecord[];
  A?: string[];
  AAAA?: string[];
  TXT?: string[];
  TLSA?: TlsaRecord[];
  PTR?: string[];
  SRV?: SrvRecord[];
  /** The target of a CNAME at this name (one; the resolver does not follow it). */
  CNAME?: string[];
  /** Answers for this name carry the AD bit. */
  secure?: boolean;
  /** Types whose lookup fails with a temporary error (SERVFAIL, timeout). */
  fail?: RecordType[];
}

type RecordType = 'MX' | 'A' | 'AAAA' | 'TXT' | 'TLSA' | 'PTR' | 'SRV' | 'CNAME';

export class MemoryResolver implements DnsResolver {
  private readonly zone = new Map<string, ZoneEntry>();
  /** Every lookup made, "TYPE name", for tests that check what was asked. */
  readonly log: string[] = [];

  constructor(zone: Record<string, ZoneEntry> = {}) {
    for (const [name, entry] of Object.entries(zone)) this.set(name, entry);
  }

  set(name: string, entry: ZoneEntry): this {
    this.zone.set(canonicalName(name), entry);
    return this;
  }

  mx(name: string): Promise<DnsAnswer<MxRecord>> {
    return this.get(name, 'MX');
  }
  a(name: string): Promise<DnsAnswer<string>> {
    return this.get(name, 'A');
  }
  aaaa(name: string): Promise<DnsAnswer<string>> {
    return this.get(name, 'AAAA');
  }
  txt(name: string): Promise<DnsAnswer<string>> {
    return this.get(name, 'TXT');
  }
  tlsa(name: string): Promise<DnsAnswer<TlsaRecord>> {
    return this.get(name, 'TLSA');
  }
  ptr(name: string): Promise<DnsAnswer<string>> {
    return this.get(name, 'PTR');
  }
  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    return this.get(name, 'SRV');
  }
  cname(name: string): Promise<DnsAnswer<string>> {
    return this.get(name, 'CNAME');
  }

  private async get<T>(name: string, type: RecordType): Promise<DnsAnswer<T>> {
    const n = canonicalName(name);
    this.log.push(`${type} ${n}`);
    const e = this.zone.get(n);
    if (!e) return { status: 'nxdomain', authenticated: false };
    if (e.fail?.includes(type)) return { status: 'temperror', reason: `${type} ${n}: SERVFAIL` };
    const authenticated = e.secure === true;
    const records = (e[type] ?? []) as T[];
    return records.length > 0 ? { status: 'ok', records, authenticated } : { status: 'nodata', authenticated };
  }
}
