/**
 * Published records as a test zone: the records `postern dns` prints (or
 * the zone-file text itself) turned into the entries MemoryResolver and
 * ZoneServer answer from.
 */
import type { DnsRecord } from '../../src/crypto/dnsrecords.js';
import type { ZoneEntry } from '../../src/net/dns/memory.js';
import { canonicalName } from '../../src/net/dns/types.js';

type Entry = { -readonly [K in keyof ZoneEntry]: ZoneEntry[K] };

export function zoneOf(records: readonly DnsRecord[], extra: Record<string, ZoneEntry> = {}): Record<string, ZoneEntry> {
  const zone: Record<string, Entry> = {};
  for (const [n, e] of Object.entries(extra)) zone[canonicalName(n)] = { ...e };
  for (const r of records) {
    const e = (zone[canonicalName(r.name)] ??= {});
    const f = r.value.split(' ');
    switch (r.type) {
      case 'MX':
        (e.MX ??= []).push({ preference: Number(f[0]), exchange: canonicalName(f[1]!) });
        break;
      case 'TXT':
        (e.TXT ??= []).push(r.value);
        break;
      case 'TLSA':
        (e.TLSA ??= []).push({ usage: Number(f[0]), selector: Number(f[1]), matchingType: Number(f[2]), data: Buffer.from(f[3]!, 'hex') });
        break;
      case 'SRV':
        (e.SRV ??= []).push({ priority: Number(f[0]), weight: Number(f[1]), port: Number(f[2]), target: canonicalName(f[3]!) });
        break;
      case 'CNAME':
        (e.CNAME ??= []).push(canonicalName(r.value));
        break;
    }
  }
  return zone;
}

/** Reads zone-file lines as `formatZone` writes them (name, ttl, IN, type, rdata; TXT as quoted strings). */
export function parseZoneText(text: string): DnsRecord[] {
  const out: DnsRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith(';')) continue;
    const [name, , cls, type, rdata] = line.split('\t');
    if (cls !== 'IN' || !name || !type || rdata === undefined) throw new Error(`not a zone line: ${line}`);
    const value = type === 'TXT' ? [...rdata.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => (m[1] ?? '').replace(/\\(.)/g, '$1')).join('') : rdata;
    out.push({ name: canonicalName(name), type: type as DnsRecord['type'], value });
  }
  return out;
}
