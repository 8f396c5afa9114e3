/**
 * The MTA-STS policy cache. Policies are trusted on first use for max_age
 * (RFC 8461 5.1), so the cache is what defeats an attacker who later blocks
 * the policy fetch: keep it across restarts (FileStsCache).
 */
import { readFileSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { StsPolicy } from './parse.js';

export interface StsCacheEntry {
  readonly id: string;
  readonly policy: StsPolicy;
  readonly fetchedAt: number;
  readonly expiresAt: number;
}

export interface StsCache {
  get(domain: string): Promise<StsCacheEntry | null>;
  set(domain: string, entry: StsCacheEntry): Promise<void>;
}

const MAX_ENTRIES = 50_000;

export class MemoryStsCache implements StsCache {
  protected readonly entries = new Map<string, StsCacheEntry>();

  async get(domain: string): Promise<StsCacheEntry | null> {
    return this.entries.get(domain) ?? null;
  }

  async set(domain: string, entry: StsCacheEntry): Promise<void> {
    this.entries.delete(domain);
    this.entries.set(domain, entry);
    // Oldest-inserted first: a flood of new domains evicts the stalest policies.
    while (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** A memory cache mirrored to one JSON file, rewritten atomically (temp file + rename) on change. */
export class FileStsCache extends MemoryStsCache {
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {
    super();
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, StsCacheEntry>;
      for (const [d, e] of Object.entries(data)) {
        if (e && typeof e.id === 'string' && typeof e.expiresAt === 'number' && e.policy && Array.isArray(e.policy.mx)) this.entries.set(d, e);
      }
    } catch {
      // No cache yet, or an unreadable one: start empty (policies are fetched again).
    }
  }

  override async set(domain: string, entry: StsCacheEntry): Promise<void> {
    await super.set(domain, entry);
    const snapshot = JSON.stringify(Object.fromEntries(this.entries));
    this.writing = this.writing.then(async () => {
      const tmp = `${this.file}.${process.pid}.tmp`;
      await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await fsp.writeFile(tmp, snapshot, { mode: 0o600 });
      await fsp.rename(tmp, this.file);
    });
    await this.writing.catch(() => undefined);
  }
}
