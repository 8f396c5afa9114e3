/**
 * DKIM key management. `rotate` writes a new key under a new selector and
 * prints the TXT record to publish; the old key keeps signing until the new
 * selector is activated (once its record is in DNS), and its record should
 * stay published for a few days after, so mail in flight still verifies.
 */
import { promises as fsp, constants } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { normalizeDomain } from '../../core/address.js';
import { generateDkimKey, dkimDnsRecord, type DkimAlgorithm } from '../../crypto/dkimkey.js';
import { formatZone } from '../../crypto/dnsrecords.js';
import { activeFileName, activeSelector, isSelector, keyFileName, listSelectors } from '../../policy/dkim/keys.js';
import { readConfig, resolveConfigPath, UsageError, withStore } from '../context.js';
import { audited } from '../audit.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

/** A selector naming the day, e.g. "s20250102", with a letter added if that one exists. */
export async function newSelector(dir: string, domain: string, now: Date): Promise<string> {
  const base = `s${now.toISOString().slice(0, 10).replace(/-/g, '')}`;
  const taken = new Set(await listSelectors(dir, domain));
  for (const suffix of ['', ...'bcdefghijklmnopqrstuvwxyz']) if (!taken.has(base + suffix)) return base + suffix;
  throw new UsageError(`too many DKIM keys for ${domain} today`);
}

/** Points signing for a domain at a selector (temp file + rename: never half-written). */
export async function activate(dir: string, domain: string, selector: string): Promise<void> {
  const tmp = path.join(dir, `.${activeFileName(domain)}.${process.pid}.tmp`);
  await fsp.writeFile(tmp, `${selector}\n`, { mode: 0o644 });
  await fsp.rename(tmp, path.join(dir, activeFileName(domain)));
}

function domainArg(d: string): string {
  const n = normalizeDomain(d);
  if (!n) throw new UsageError(`not a valid domain name: ${JSON.stringify(d)}`);
  return n;
}

export function registerDkimCommands(program: Command): void {
  const dkim = program.command('dkim').description('DKIM signing keys');
  dkim
    .command('rotate')
    .description('generate a new key with a new selector for a domain (default: every local domain) and print its DNS record')
    .option('--domain <domain>', 'only this domain')
    .option('--algorithm <alg>', 'rsa (2048 bits) or ed25519', 'rsa')
    .option('--activate', 'sign with the new key at once (only if its record is already published)')
    .action(async (o: { domain?: string; algorithm: string; activate?: boolean }, cmd: Command) => {
      if (o.algorithm !== 'rsa' && o.algorithm !== 'ed25519') throw new UsageError('--algorithm is rsa or ed25519');
      const config = readConfig(cfg(cmd));
      const dir = config.dkim.key_dir;
      const domains = o.domain ? [domainArg(o.domain)] : await withStore(cfg(cmd), async (s) => (await s.meta.directory.listDomains()).map((d) => d.name));
      if (domains.length === 0) throw new UsageError('no local domains; add one with: postern domain add <domain>');
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      const now = new Date();
      const rotated: { domain: string; selector: string; previous: string | null }[] = [];
      for (const domain of domains) {
        const selector = await newSelector(dir, domain, now);
        const key = await generateDkimKey({ algorithm: o.algorithm as DkimAlgorithm });
        const file = path.join(dir, keyFileName(domain, selector));
        // Exclusive create, private from the first byte.
        const fh = await fsp.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        try {
          await fh.writeFile(key.privateKeyPem, 'utf8');
          await fh.sync();
        } finally {
          await fh.close();
        }
        const previous = await activeSelector(dir, domain, config.dkim.selector);
        rotated.push({ domain, selector, previous: previous ?? null });
        console.log(`${domain}: new key ${file} (selector ${selector})`);
        console.log(formatZone([dkimDnsRecord(domain, selector, key.dnsRecordValue)]));
        if (o.activate) {
          await activate(dir, domain, selector);
          console.log(`${domain}: now signing with selector ${selector}${previous ? ` (was ${previous}; keep its record published for a few days)` : ''}\n`);
        } else {
          console.log(`${domain}: still signing with ${previous ?? 'no key'}. Publish the record above, then run:`);
          console.log(`  postern dkim activate --domain ${domain} --selector ${selector}\n`);
        }
      }
      // The selector and algorithm only: never the key.
      await withStore(cfg(cmd), async (s) => {
        for (const r of rotated) await audited(s, 'dkim.rotate', r.domain, { selector: r.selector, algorithm: o.algorithm, activated: o.activate === true, previous: r.previous });
      });
    });
  dkim
    .command('activate')
    .description('sign a domain\'s mail with this selector from now on (publish its record first)')
    .requiredOption('--domain <domain>', 'the domain')
    .requiredOption('--selector <selector>', 'a selector with a key in [dkim] key_dir')
    .action(async (o: { domain: string; selector: string }, cmd: Command) => {
      const config = readConfig(cfg(cmd));
      const domain = domainArg(o.domain);
      const selector = o.selector.toLowerCase();
      if (!isSelector(selector) || !(await listSelectors(config.dkim.key_dir, domain)).includes(selector)) {
        throw new UsageError(`no key ${keyFileName(domain, selector)} in ${config.dkim.key_dir}`);
      }
      const previous = await activeSelector(config.dkim.key_dir, domain, config.dkim.selector);
      await activate(config.dkim.key_dir, domain, selector);
      await withStore(cfg(cmd), (s) => audited(s, 'dkim.activate', domain, { selector, previous: previous ?? null }));
      console.log(`${domain}: signing with selector ${selector} (a running server picks it up within a minute)`);
    });
  dkim
    .command('list')
    .description('keys per domain; * marks the one that signs')
    .action(async (_o, cmd: Command) => {
      const config = readConfig(cfg(cmd));
      const dir = config.dkim.key_dir;
      const files = await fsp.readdir(dir).catch(() => [] as string[]);
      const domains = new Set<string>();
      for (const f of files) {
        if (!f.endsWith('.key.pem')) continue;
        // <domain>.<selector>.key.pem: the selector is one label here; the domain is what precedes it.
        const stem = f.slice(0, -'.key.pem'.length);
        const dot = stem.lastIndexOf('.');
        if (dot > 0) domains.add(stem.slice(0, dot));
      }
      for (const domain of [...domains].sort()) {
        const active = await activeSelector(dir, domain, config.dkim.selector);
        const sels = await listSelectors(dir, domain);
        console.log(`${domain}\t${sels.map((s) => (s === active ? `*${s}` : s)).join(' ')}`);
      }
    });
}
