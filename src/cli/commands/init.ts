import type { Command } from 'commander';
import { normalizeDomain } from '../../core/address.js';
import { runInit } from '../init.js';
import { openConfiguredStore, readConfig, UsageError } from '../context.js';

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a commented configuration, a TLS certificate and a DKIM key, and print the DNS records to publish')
    .requiredOption('--domain <domain>', 'the mail domain, e.g. example.org')
    .requiredOption('--dir <folder>', 'where to write postern.toml, tls/, dkim/ and data/')
    .option('--hostname <fqdn>', 'the server name (default mail.<domain>)')
    .option('--port-offset <n>', 'add n to every listener port', '0')
    .option('--force', 'overwrite an existing configuration and keys')
    .action(async (o: { domain: string; dir: string; hostname?: string; portOffset: string; force?: boolean }) => {
      const domain = normalizeDomain(o.domain);
      if (!domain) throw new UsageError(`not a valid domain name: ${JSON.stringify(o.domain)}`);
      const portOffset = Number(o.portOffset);
      if (!Number.isInteger(portOffset) || portOffset < 0 || portOffset > 50_000) throw new UsageError('--port-offset takes 0..50000');
      const r = await runInit({ domain, dir: o.dir, portOffset, force: !!o.force, ...(o.hostname ? { hostname: o.hostname } : {}) });
      const store = await openConfiguredStore(readConfig(r.configPath));
      try {
        if (!(await store.meta.directory.hasDomain(domain))) await store.meta.directory.addDomain(domain, Date.now());
      } finally {
        await store.close();
      }
      console.log(`wrote ${r.configPath}; ${domain} is a local domain`);
      console.log(`wrote ${r.certPath} and ${r.keyPath} (self-signed; replace with a CA-issued certificate for production)`);
      console.log(`wrote ${r.dkimKeyPath}`);
      console.log('\nPublish these DNS records:\n');
      console.log(r.dnsRecords);
      console.log(`Next: postern -c ${r.configPath} user add you@${domain} --role mailadmin   (then: postern -c ${r.configPath} start)`);
      console.log(`postmaster@${domain}, abuse@${domain}, dmarc-reports@${domain} and tls-reports@${domain} (the rua addresses above) exist without an alias: their mail goes to the first mailadmin, or to [directory] postmaster; DMARC reports are stored first (postern dmarc).`);
    });
}
