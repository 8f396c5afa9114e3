/**
 * The lookups behind `compareRecord`: for each expected record, what the
 * configured resolver answers at its name (plus, for SPF, the analysis
 * through include/redirect, and for an alias, the addresses). Every lookup
 * is the resolver's, under its timeout; answers become presentation text.
 */
import type { DnsRecord } from '../crypto/dnsrecords.js';
import { answerRecords, type DnsAnswer, type DnsResolver } from '../net/dns/types.js';
import { recordKind, type Answer, type Observed } from './dns-compare.js';
import { analyzeSpf, isSpf, parseSpf } from './spf.js';

/** What the checks ask: the resolver interface, SRV and CNAME included. */
export type CheckDns = Pick<DnsResolver, 'txt' | 'a' | 'aaaa' | 'mx' | 'tlsa' | 'srv' | 'cname'>;

function answer<T>(a: DnsAnswer<T>, show: (r: T) => string): Answer {
  if (a.status === 'temperror') return { status: 'error', reason: a.reason };
  if (a.status !== 'ok') return { status: 'none' };
  return { status: 'found', values: a.records.map(show) };
}

const dot = (name: string): string => (name === '' ? '.' : `${name}.`);

/** Our host's addresses, A and AAAA. */
export async function hostAddresses(dns: CheckDns, host: string): Promise<string[]> {
  const [a4, a6] = await Promise.all([dns.a(host), dns.aaaa(host)]);
  return [...answerRecords(a4), ...answerRecords(a6)];
}

export async function observe(record: DnsRecord, dns: CheckDns, host: { name: string; addresses: readonly string[] }): Promise<Observed> {
  switch (record.type) {
    case 'MX':
      return { answer: answer(await dns.mx(record.name), (m) => `${m.preference} ${dot(m.exchange)}`) };
    case 'TLSA':
      return { answer: answer(await dns.tlsa(record.name), (t) => `${t.usage} ${t.selector} ${t.matchingType} ${t.data.toString('hex')}`) };
    case 'SRV':
      if (!dns.srv) return { answer: { status: 'error', reason: 'the resolver cannot look up SRV records' } };
      return { answer: answer(await dns.srv(record.name), (s) => `${s.priority} ${s.weight} ${s.port} ${dot(s.target)}`) };
    case 'CNAME': {
      if (!dns.cname) return { answer: { status: 'error', reason: 'the resolver cannot look up CNAME records' } };
      const cname = answer(await dns.cname(record.name), dot);
      if (cname.status !== 'none') return { answer: cname };
      const addresses = await hostAddresses(dns, record.name);
      return { answer: cname, addresses: addresses.length ? { status: 'found', values: addresses } : { status: 'none' }, hostAddresses: host.addresses };
    }
    case 'TXT': {
      const txt = answer(await dns.txt(record.name), (t) => t);
      // The name of the domain itself carries SPF: analyse the one SPF record there is.
      const spf = txt.status === 'found' ? txt.values.filter(isSpf) : [];
      const parsed = spf.length === 1 && recordKind(record) === 'spf' ? parseSpf(spf[0]!) : null;
      if (!parsed?.ok) return { answer: txt };
      return { answer: txt, spf: await analyzeSpf(record.name, parsed.value, { host: host.name, addresses: host.addresses }, dns) };
    }
  }
}
