/**
 * The DNS records a mail domain publishes to be deliverable and to have its
 * mail authenticated: MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, for the
 * server's own certificate a DANE TLSA record and, for mail clients, the SRV
 * records of RFC 6186/8314. Text only; nothing here queries or changes DNS.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { normalizeDomain } from '../core/address.js';
import { dkimDnsRecord } from './dkimkey.js';
import { mtaStsPolicyId, mtaStsPolicyText, type MtaStsSettings } from './mta-sts-policy.js';

export interface DnsRecord {
  /** Fully qualified, without the trailing dot. */
  readonly name: string;
  readonly type: 'MX' | 'TXT' | 'TLSA' | 'SRV' | 'CNAME';
  /** Presentation form; TXT values unquoted and unsplit. */
  readonly value: string;
}

export interface DomainRecordsOptions {
  domain: string;
  /** The MX host, normally server.hostname. */
  hostname: string;
  dkimSelector?: string;
  /** "v=DKIM1; k=...; p=..." from generateDkimKey. */
  dkimValue?: string;
  /** More DKIM keys of the domain (during a rotation, the old and the new selector are both published). */
  dkimKeys?: readonly DkimPublicKey[];
  /** The server certificate; adds a TLSA record pinning its public key. */
  tlsCertPem?: string;
  /** The MTA-STS policy served; its id goes into the `_mta-sts` record. Without it, no record. */
  mtaSts?: MtaStsSettings;
  /** Local part of the DMARC rua address (`[policy.dmarc_reports] local_part`); default "dmarc-reports". */
  dmarcReportLocalPart?: string;
  /** Client ports to announce by SRV (RFC 6186, RFC 8314); absent services get target "." (not offered). */
  clientPorts?: ClientPorts;
}

export interface DkimPublicKey {
  readonly selector: string;
  /** "v=DKIM1; k=...; p=...". */
  readonly value: string;
}

/** Public port of each client service that is listening; null or absent = not offered. */
export interface ClientPorts {
  imaps?: number | null;
  pop3s?: number | null;
  submissions?: number | null;
  submission?: number | null;
}

function name(label: string, what: string): string {
  const n = normalizeDomain(label);
  if (n === null) throw new RangeError(`${what} is not a valid DNS name: ${JSON.stringify(label)}`);
  return n;
}

/** The `_mta-sts` TXT record; its id is derived from the very text the admin listener serves. */
export function mtaStsRecord(domain: string, settings: MtaStsSettings): DnsRecord {
  return { name: `_mta-sts.${name(domain, 'domain')}`, type: 'TXT', value: `v=STSv1; id=${mtaStsPolicyId(mtaStsPolicyText(settings))}` };
}

/**
 * SRV records for mail clients: implicit TLS and submission with STARTTLS
 * where they listen; plain IMAP and POP3 (and any service that is off) as
 * "0 0 0 ." - not offered (RFC 6186 4).
 */
export function clientSrvRecords(domain: string, host: string, ports: ClientPorts): DnsRecord[] {
  const d = name(domain, 'domain');
  const h = name(host, 'hostname');
  const srv = (service: string, port: number | null | undefined, priority: number): DnsRecord => ({
    name: `_${service}._tcp.${d}`,
    type: 'SRV',
    value: port ? `${priority} 1 ${port} ${h}.` : '0 0 0 .',
  });
  return [srv('imaps', ports.imaps, 0), srv('imap', null, 0), srv('pop3s', ports.pop3s, 10), srv('pop3', null, 0), srv('submissions', ports.submissions, 0), srv('submission', ports.submission, 10)];
}

/** DANE-EE SPKI SHA-256 (3 1 1, RFC 7671): survives certificate renewal with the same key. */
export function tlsaValue(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return `3 1 1 ${createHash('sha256').update(spki).digest('hex')}`;
}

function dkimKeys(opts: DomainRecordsOptions): DkimPublicKey[] {
  const keys = opts.dkimSelector !== undefined && opts.dkimValue !== undefined ? [{ selector: opts.dkimSelector, value: opts.dkimValue }] : [];
  for (const k of opts.dkimKeys ?? []) if (!keys.some((x) => x.selector === k.selector)) keys.push(k);
  return keys;
}

export function dnsRecordsForDomain(opts: DomainRecordsOptions): DnsRecord[] {
  const domain = name(opts.domain, 'domain');
  if (opts.dmarcReportLocalPart !== undefined && !/^[a-z0-9._+-]{1,64}$/.test(opts.dmarcReportLocalPart)) throw new RangeError(`not a report address local part: ${JSON.stringify(opts.dmarcReportLocalPart)}`);
  const host = name(opts.hostname, 'hostname');
  const records: DnsRecord[] = [
    { name: domain, type: 'MX', value: `10 ${host}.` },
    { name: domain, type: 'TXT', value: 'v=spf1 mx -all' },
    ...dkimKeys(opts).map((k) => dkimDnsRecord(domain, k.selector, k.value)),
    { name: `_dmarc.${domain}`, type: 'TXT', value: `v=DMARC1; p=quarantine; rua=mailto:${opts.dmarcReportLocalPart ?? 'dmarc-reports'}@${domain}; adkim=s; aspf=s` },
    // The policy host is the admin listener on the mail host (it must answer on port 443).
    ...(opts.mtaSts ? [mtaStsRecord(domain, opts.mtaSts), { name: `mta-sts.${domain}`, type: 'CNAME' as const, value: `${host}.` }] : []),
    { name: `_smtp._tls.${domain}`, type: 'TXT', value: `v=TLSRPTv1; rua=mailto:tls-reports@${domain}` },
  ];
  if (opts.clientPorts) records.push(...clientSrvRecords(domain, host, opts.clientPorts), { name: `autoconfig.${domain}`, type: 'CNAME', value: `${host}.` });
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
