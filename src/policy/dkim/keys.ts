/**
 * DKIM signing keys on disk: `<key_dir>/<domain>.<selector>.key.pem`, as
 * `postern init` and `postern dkim rotate` write them. The selector in use
 * for a domain is named by `<domain>.active` when present (written once the
 * new key's DNS record is published); otherwise it is the configured default
 * selector, or the only key there is.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { createPrivateKey } from 'node:crypto';
import type { Clock } from '../../core/clock.js';

export interface DkimKeyRef {
  readonly domain: string;
  readonly selector: string;
  readonly privateKeyPem: string;
  readonly algorithm: 'rsa-sha256' | 'ed25519-sha256';
}

export interface DkimKeySource {
  /** The signing key for a domain, or null when the domain has none. Throws when a key file is unreadable or broken. */
  keyFor(domain: string): Promise<DkimKeyRef | null>;
}

export const keyFileName = (domain: string, selector: string): string => `${domain}.${selector}.key.pem`;
export const activeFileName = (domain: string): string => `${domain}.active`;

const SELECTOR = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function isSelector(s: string): boolean {
  return SELECTOR.test(s);
}

/** Selectors with a key file for a domain, sorted. */
export async function listSelectors(dir: string, domain: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const prefix = `${domain}.`;
  return names
    .filter((n) => n.startsWith(prefix) && n.endsWith('.key.pem'))
    .map((n) => n.slice(prefix.length, -'.key.pem'.length))
    .filter(isSelector)
    .sort();
}

export async function activeSelector(dir: string, domain: string, defaultSelector: string): Promise<string | null> {
  const named = await fsp.readFile(path.join(dir, activeFileName(domain)), 'utf8').then(
    (s) => s.trim().toLowerCase(),
    () => null,
  );
  const all = await listSelectors(dir, domain);
  if (named && all.includes(named)) return named;
  if (all.includes(defaultSelector)) return defaultSelector;
  return all.length === 1 ? all[0]! : null;
}

export async function loadKey(dir: string, domain: string, selector: string): Promise<DkimKeyRef> {
  const pem = await fsp.readFile(path.join(dir, keyFileName(domain, selector)), 'utf8');
  const type = createPrivateKey(pem).asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ed25519') throw new Error(`DKIM key ${keyFileName(domain, selector)} is ${type ?? 'unknown'}, not RSA or Ed25519`);
  return { domain, selector, privateKeyPem: pem, algorithm: type === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256' };
}

/** Keys from a folder, re-read at most once a minute so a rotation takes effect without a restart. */
export class DkimKeyDir implements DkimKeySource {
  private readonly cache = new Map<string, { at: number; key: DkimKeyRef | null }>();

  constructor(
    private readonly dir: string,
    private readonly defaultSelector: string,
    private readonly clock: Clock,
    private readonly ttlMs = 60_000,
  ) {}

  async keyFor(domain: string): Promise<DkimKeyRef | null> {
    const d = domain.toLowerCase();
    const hit = this.cache.get(d);
    const now = this.clock.now();
    if (hit && now - hit.at < this.ttlMs) return hit.key;
    const selector = await activeSelector(this.dir, d, this.defaultSelector);
    const key = selector ? await loadKey(this.dir, d, selector) : null;
    this.cache.set(d, { at: now, key });
    return key;
  }
}
