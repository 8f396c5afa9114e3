/**
 * `postern init`: a complete, working installation in one folder: the
 * commented config, a self-signed TLS certificate, a DKIM key and the data
 * folder, plus the DNS records to publish. Everything is generated and the
 * config validated before the first file is written, and every file is
 * written to a temporary name, synced and renamed, so an interrupted init
 * leaves either the old file or the new one, never half of one.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { formatConfigErrors, parseConfig, renderConfigTemplate } from '../config/index.js';
import { normalizeDomain } from '../core/address.js';
import { generateDkimKey } from '../crypto/dkimkey.js';
import { formatZone } from '../crypto/dnsrecords.js';
import { generateSelfSigned } from '../crypto/selfsigned.js';
import { DEFAULT_RULES_TOML } from '../policy/dlp/rules/default.js';
import { domainRecords } from '../posture/dns-expected.js';
import { UsageError } from './context.js';

export interface InitOptions {
  domain: string;
  dir: string;
  /** Default mail.<domain>. */
  hostname?: string;
  portOffset?: number;
  /** Address every listener binds (the demo binds loopback only). */
  listenAddress?: string;
  /** Overwrite an existing config and keys. */
  force?: boolean;
}

export interface InitResult {
  configPath: string;
  certPath: string;
  keyPath: string;
  dkimKeyPath: string;
  /** Zone-file text of the records to publish. */
  dnsRecords: string;
}

const CONFIG_FILE = 'postern.toml';
const DLP_RULES_FILE = 'dlp-rules.toml';
const PRIVATE = 0o600;
const PRIVATE_DIR = 0o700;

export async function runInit(opts: InitOptions): Promise<InitResult> {
  const domain = normalizeDomain(opts.domain);
  if (!domain) throw new UsageError(`not a valid domain name: ${JSON.stringify(opts.domain)}`);
  const dir = resolve(opts.dir);
  const configPath = join(dir, CONFIG_FILE);

  // Render and validate first: a bad host name or port offset writes nothing.
  const text = renderConfigTemplate({ hostname: opts.hostname ?? `mail.${domain}`, domain, dataDir: 'data', portOffset: opts.portOffset ?? 0, dlpRules: DLP_RULES_FILE, ...(opts.listenAddress ? { listenAddress: opts.listenAddress } : {}) });
  const parsed = parseConfig(text, dir);
  if (!parsed.ok) throw new UsageError(`cannot write this configuration:\n${formatConfigErrors(configPath, parsed.errors)}`);
  const config = parsed.config;
  const hostname = config.server.hostname;
  const certPath = config.tls.cert;
  const keyPath = config.tls.key;
  // The file name the server looks for: <key_dir>/<domain>.<selector>.key.pem.
  const dkimKeyPath = join(config.dkim.key_dir, `${domain}.${config.dkim.selector}.key.pem`);

  if (!opts.force) {
    const present = await existing([configPath, certPath, keyPath, dkimKeyPath]);
    if (present.length > 0) {
      throw new UsageError(`${present.join(', ')} already exist${present.length === 1 ? 's' : ''}; use --force to overwrite`);
    }
  }

  // The admin listener also answers as mta-sts.<domain> and autoconfig.<domain>; the certificate names them.
  const altNames = [`mta-sts.${domain}`, `autoconfig.${domain}`];
  const [tls, dkim] = await Promise.all([generateSelfSigned({ hostname, altNames }), generateDkimKey({ algorithm: 'rsa', bits: 2048 })]);

  await mkdir(dir, { recursive: true });
  for (const d of [dirname(keyPath), config.dkim.key_dir, config.server.data_dir]) await ensureDir(d, PRIVATE_DIR);
  // Keys first and the config last: a config on disk means init finished.
  await writeFileAtomic(keyPath, tls.keyPem, PRIVATE);
  await writeFileAtomic(dkimKeyPath, dkim.privateKeyPem, PRIVATE);
  await writeFileAtomic(certPath, tls.certPem, 0o644);
  // The administrator's to adapt (and version): an existing one is kept even with --force.
  const rulesPath = join(dir, DLP_RULES_FILE);
  if ((await existing([rulesPath])).length === 0) await writeFileAtomic(rulesPath, DEFAULT_RULES_TOML, 0o640);
  // 0640: the file may later hold the PostgreSQL password.
  await writeFileAtomic(configPath, text, 0o640);

  // The same records `postern dns` prints from the files just written.
  const records = domainRecords(config, domain, { dkim: [{ selector: config.dkim.selector, value: dkim.dnsRecordValue }], certPem: tls.certPem });
  const dnsRecords = `; DNS records for ${domain}\n${formatZone(records)}`;
  return { configPath, certPath, keyPath, dkimKeyPath, dnsRecords };
}

export { clientPorts } from '../posture/dns-expected.js';

async function existing(paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const p of paths) {
    try {
      await access(p, constants.F_OK);
      found.push(p);
    } catch {
      // absent: nothing to protect
    }
  }
  return found;
}

/** Creates a folder with the given mode; an existing folder is kept as it is. */
async function ensureDir(path: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  try {
    await mkdir(path, { mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (!(await stat(path)).isDirectory()) throw new UsageError(`${path} exists and is not a folder`);
  }
}

/**
 * Write to a fresh temporary file created with its final mode (a private key
 * is never readable by others, not even for a moment), sync it, rename it
 * over the target and sync the folder so the rename survives a crash.
 */
async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const d = await open(dirname(path), 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
