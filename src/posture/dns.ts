/**
 * The DNS checks: for each local domain, the records postern expects
 * (`dns-expected.ts`) against what the configured resolver answers
 * (`dns-lookup.ts`), compared by `dns-compare.ts`. `checkDomainDns` is what
 * `postern dns --check` prints; `dnsChecks` grades the same comparisons per
 * record kind for the posture audit.
 */
import type { Config } from '../config/index.js';
import { Directory } from '../directory/directory.js';
import { directoryOptions } from '../directory/options.js';
import { WireResolver } from '../net/dns/wire.js';
import { activeSelector } from '../policy/dkim/keys.js';
import type { DirectoryRepo } from '../store/types.js';
import { compareRecord, type RecordCheck, type RecordKind } from './dns-compare.js';
import { domainRecords, readDomainKeys } from './dns-expected.js';
import { hostAddresses, observe, type CheckDns } from './dns-lookup.js';
import { parseDmarc, mailtoAddress } from './tags.js';
import type { CheckResult, Grade } from './types.js';

export interface DomainDnsReport {
  readonly domain: string;
  readonly checks: readonly RecordCheck[];
  /** Local files that could not be read (a DKIM key, the certificate): their records are left out. */
  readonly problems: readonly string[];
}

/** The configured resolver ([delivery] resolver, resolver_timeout): the one outbound delivery trusts. */
export function configuredResolver(config: Config): WireResolver {
  const d = config.delivery;
  return new WireResolver({ ...(d.resolver ? { server: d.resolver } : {}), timeoutMs: d.resolver_timeout * 1000 });
}

export async function checkDomainDns(config: Config, domain: string, dns: CheckDns): Promise<DomainDnsReport> {
  const keys = await readDomainKeys(config, domain);
  const records = domainRecords(config, domain, keys);
  const host = config.server.hostname;
  const [addresses, active] = await Promise.all([hostAddresses(dns, host), activeSelector(config.dkim.key_dir, domain, config.dkim.selector)]);
  const ctx = { hostname: host, activeDkimSelector: active };
  const checks = await Promise.all(records.map(async (r) => compareRecord(r, await observe(r, dns, { name: host, addresses }), ctx)));
  return { domain, checks, problems: keys.problems };
}

export interface DnsCheckContext {
  readonly config: Config;
  /** Normally `configuredResolver(config)`. */
  readonly dns: CheckDns;
  /** Local domains, and whether a report address reaches a mailbox (the store's `meta.directory`). */
  readonly directory: DirectoryRepo;
}

const ORDER: Record<Grade, number> = { pass: 0, warn: 1, fail: 2 };
const KINDS: readonly RecordKind[] = ['mx', 'spf', 'dkim', 'dmarc', 'mta-sts', 'tls-rpt', 'tlsa', 'srv', 'autoconfig'];

const FIX: Record<RecordKind, string> = {
  mx: 'publish the MX record `postern dns` prints',
  spf: 'publish the SPF record `postern dns` prints (one v=spf1 record, at most 10 lookups, ending in -all)',
  dkim: 'publish the DKIM record `postern dns` prints for each selector',
  dmarc: 'publish the DMARC record `postern dns` prints (p=quarantine or p=reject, with rua=)',
  'mta-sts': 'publish the _mta-sts TXT record and the mta-sts CNAME `postern dns` prints',
  'tls-rpt': 'publish the _smtp._tls TXT record `postern dns` prints',
  tlsa: 'publish the TLSA record `postern dns` prints (after each key change, before the new key is used)',
  srv: 'publish the SRV records `postern dns` prints so mail clients find the services',
  autoconfig: 'publish the autoconfig CNAME `postern dns` prints',
};

/** One graded result per record kind per local domain: `dns.<domain>.<kind>`. */
export async function dnsChecks(ctx: DnsCheckContext): Promise<CheckResult[]> {
  const domains = (await ctx.directory.listDomains()).map((d) => d.name);
  const reports = await Promise.all(domains.map((d) => checkDomainDns(ctx.config, d, ctx.dns)));
  // Routed as delivery routes it: accounts, aliases, and the required addresses that reach the postmaster.
  const directory = new Directory(ctx.directory, directoryOptions(ctx.config));
  const out: CheckResult[] = [];
  for (const report of reports) {
    for (const kind of KINDS) {
      const checks = report.checks.filter((c) => c.kind === kind);
      if (checks.length === 0) {
        const left = kind === 'dkim' ? 'no DKIM record to publish' : kind === 'tlsa' ? 'no TLSA record to publish' : null;
        if (left) out.push(result(report.domain, kind, 'fail', `${left}${report.problems.length ? ` (${report.problems.join('; ')})` : ''}`, kind === 'dkim' ? 'postern dkim rotate --domain ' + report.domain + ' --activate' : 'check [tls] cert'));
        continue;
      }
      let worst = checks.reduce((w, c) => (ORDER[c.grade] > ORDER[w.grade] ? c : w));
      let reason = worst.grade === 'pass' ? `${checks.length === 1 ? 'published' : `all ${checks.length} published`} as expected` : `${worst.record.name} ${worst.record.type}: ${worst.status}${worst.detail ? `, ${worst.detail}` : ''}`;
      let fix = worst.grade === 'pass' ? '' : FIX[kind];
      if (kind === 'dmarc' && worst.grade === 'pass') {
        const unreachable = await unreachableRua(checks[0]!.published[0] ?? '', directory);
        if (unreachable.length > 0) {
          worst = { ...worst, grade: 'warn' };
          reason = `the aggregate reports go to ${unreachable.join(', ')}, which is no local mailbox`;
          fix = `create it (postern user add or postern alias add), or point rua= at a local mailbox`;
        }
      }
      out.push(result(report.domain, kind, worst.grade, reason, fix));
    }
  }
  return out;
}

function result(domain: string, kind: RecordKind, grade: Grade, reason: string, fix: string): CheckResult {
  return { id: `dns.${domain}.${kind}`, area: 'dns', grade, reason, fix };
}

/** rua addresses that reach no local mailbox (reports sent elsewhere are the owner's choice, but nobody here reads them). */
async function unreachableRua(dmarc: string, directory: Directory): Promise<string[]> {
  const p = parseDmarc(dmarc);
  if (!p.ok) return [];
  const out: string[] = [];
  for (const uri of p.value.rua) {
    const addr = mailtoAddress(uri);
    if (!addr) continue;
    const reaches = (await directory.isLocalDomain(addr.slice(addr.lastIndexOf('@') + 1))) && ((await directory.expandRecipient(addr))?.local.length ?? 0) > 0;
    if (!reaches) out.push(addr);
  }
  return out;
}
