/**
 * `postern dns`: the records each local domain should publish, in zone-file
 * form (the same ones `postern init` prints), and with --check what the
 * configured resolver answers for each: ok, missing or different. Exit 0
 * when every record is as expected, 1 when one is not, 2 on a usage error.
 */
import type { Command } from 'commander';
import { normalizeDomain } from '../../core/address.js';
import { formatZone, type DnsRecord } from '../../crypto/dnsrecords.js';
import type { RecordCheck } from '../../posture/dns-compare.js';
import { domainRecords, readDomainKeys } from '../../posture/dns-expected.js';
import { checkDomainDns, configuredResolver } from '../../posture/dns.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';

interface DnsOptions {
  domain?: string;
  check?: boolean;
  json?: boolean;
}

/** One line per record: status, name, type, then what differs. */
export function formatCheck(c: RecordCheck): string {
  const head = `${c.status.padEnd(9)} ${c.record.name} ${c.record.type}`;
  if (c.status === 'ok') return head;
  const lines = [`${head}: ${c.detail}`];
  for (const p of c.published) lines.push(`          published: ${p}`);
  lines.push(`          expected:  ${c.record.value}`);
  return lines.join('\n');
}

export function registerDnsCommand(program: Command): void {
  program
    .command('dns')
    .description('print the DNS records each local domain should publish; with --check, compare them with what DNS answers')
    .option('--domain <domain>', 'only this local domain')
    .option('--check', 'look each record up through the configured resolver and report ok / missing / different (exit 1 unless all are ok)')
    .option('--json', 'machine-readable output')
    .action(async (o: DnsOptions, cmd: Command) => {
      const only = o.domain === undefined ? null : normalizeDomain(o.domain);
      if (only === null && o.domain !== undefined) throw new UsageError(`not a valid domain name: ${JSON.stringify(o.domain)}`);
      const configPath = resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);
      const { config, domains } = await withStore(configPath, async (s, config) => ({ config, domains: (await s.meta.directory.listDomains()).map((d) => d.name) }));
      if (only !== null && !domains.includes(only)) throw new UsageError(`${only} is not a local domain (postern domain list)`);
      const selected = only !== null ? [only] : domains;
      if (selected.length === 0) throw new UsageError('no local domains; add one with: postern domain add <domain>');

      if (!o.check) {
        const out: { domain: string; records: DnsRecord[]; problems: readonly string[] }[] = [];
        for (const domain of selected) {
          const keys = await readDomainKeys(config, domain);
          out.push({ domain, records: domainRecords(config, domain, keys), problems: keys.problems });
        }
        for (const d of out) for (const p of d.problems) process.stderr.write(`postern: ${d.domain}: ${p}; its record is left out\n`);
        if (o.json) console.log(JSON.stringify({ domains: out }, null, 2));
        else console.log(out.map((d) => `; DNS records for ${d.domain}\n${formatZone(d.records)}`).join('\n'));
        return;
      }

      const dns = configuredResolver(config);
      const reports = [];
      for (const domain of selected) reports.push(await checkDomainDns(config, domain, dns));
      const allOk = reports.every((r) => r.checks.every((c) => c.status === 'ok') && r.problems.length === 0);
      if (o.json) {
        console.log(JSON.stringify({ ok: allOk, domains: reports }, null, 2));
      } else {
        for (const r of reports) {
          console.log(`; ${r.domain}`);
          for (const p of r.problems) console.log(`error     ${p}; its record is left out`);
          for (const c of r.checks) console.log(formatCheck(c));
          const bad = r.checks.filter((c) => c.status !== 'ok').length;
          console.log(`; ${r.checks.length - bad} of ${r.checks.length} records as expected\n`);
        }
      }
      process.exitCode = allOk ? 0 : 1;
    });
}
