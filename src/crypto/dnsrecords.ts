/**
 * The DNS records a mail domain publishes to be deliverable and to have its
 * mail authenticated: MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT and, for the
 * server's own certificate, a DANE TLSA record. Text only; nothing here
 * queries or changes DNS.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { normalizeDomain } from '../core/address.js';
import { dkimDnsRecord } from './dkimkey.js';

export interface DnsRecord {
  /** Fully qualified, without the trailing dot. */
  readonly name: string;
  readonly type: 'MX' | 'TXT' | 'TLSA';
  /** Presentation form; TXT values unquoted and unsplit. */
  readonly value: string;
}

export interface DomainRecordsOptions {
  domain: string;
  /** The MX host, normally server.hostname. */
  hostname: string;
  dkimSelector: string;
  /** "v=DKIM1; k=...; p=..." from generateDkimKey. */
  dkimValue: string;
  /** The server certificate; adds a TLSA record pinning its public key. */
  tlsCertPem?: string;
  /** Time for the MTA-STS policy id; injected by tests. */
  now?: Date;
}

function name(label: string, what: string): string {
  const n = normalizeDomain(label);
  if (n === null) throw new RangeError(`${what} is not a valid DNS name: ${JSON.stringify(label)}`);
  return n;
}

/** MTA-STS policy id: any string that changes when the policy does; a timestamp is conventional. */
function stsId(d: Date): string {
  return d.toISOString().replace(/\D/g, '').slice(0, 14);
}

/** DANE-EE SPKI SHA-256 (3 1 1, RFC 7671): survives certificate renewal with the same key. */
export function tlsaValue(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return `3 1 1 ${createHash('sha256').update(spki).digest('hex')}`;
}

export function dnsRecordsForDomain(opts: DomainRecordsOptions): DnsRecord[] {
  const domain = name(opts.domain, 'domain');
  const host = name(opts.hostname, 'hostname');
  const records: DnsRecord[] = [
    { name: domain, type: 'MX', value: `10 ${host}.` },
    { name: domain, type: 'TXT', value: 'v=spf1 mx -all' },
    dkimDnsRecord(domain, opts.dkimSelector, opts.dkimValue),
    { name: `_dmarc.${domain}`, type: 'TXT', value: `v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@${domain}; adkim=s; aspf=s` },
    { name: `_mta-sts.${domain}`, type: 'TXT', value: `v=STSv1; id=${stsId(opts.now ?? new Date())}` },
    { name: `_smtp._tls.${domain}`, type: 'TXT', value: `v=TLSRPTv1; rua=mailto:tls-reports@${domain}` },
  ];
  if (opts.tlsCertPem) records.push({ name: `_25._tcp.${host}`, type: 'TLSA', value: tlsaValue(opts.tlsCertPem) });
  return records;
}

/** A TXT value as character-strings of at most 255 bytes each (RFC 1035 3.3.14). */
export function txtStrings(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let curBytes = 0;
  for (const ch of value) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (curBytes + n > 255) {
      out.push(cur);
      cur = '';
      curBytes = 0;
    }
    cur += ch;
    curBytes += n;
  }
  if (cur || out.length === 0) out.push(cur);
  return out;
}

const hasControl = (s: string): boolean => [...s].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f');

const quote = (s: string): string => `"${s.replace(/[\\"]/g, '\\$&')}"`;

/** Zone-file text (RFC 1035 master format), one record per line. */
export function formatZone(records: readonly DnsRecord[], ttl = 3600): string {
  const lines = records.map((r) => {
    if (hasControl(r.name + r.value)) throw new RangeError(`control character in DNS record ${JSON.stringify(r.name)}`);
    const rdata = r.type === 'TXT' ? txtStrings(r.value).map(quote).join(' ') : r.value;
    return `${r.name}.\t${ttl}\tIN\t${r.type}\t${rdata}`;
  });
  return `${lines.join('\n')}\n`;
}
