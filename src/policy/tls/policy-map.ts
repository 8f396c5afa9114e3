import { canonicalName } from '../../net/dns/types.js';
import { isTlsLevel, type TlsLevel } from './types.js';

/**
 * Per-destination levels. A key "example.org" matches that domain only; a
 * key ".example.org" matches every subdomain (not the domain itself), as in
 * Postfix. The most specific key wins; unmatched domains get the default.
 */
export class TlsPolicyMap {
  private readonly exact = new Map<string, TlsLevel>();
  private readonly parents = new Map<string, TlsLevel>();

  constructor(
    entries: Readonly<Record<string, string>>,
    readonly defaultLevel: TlsLevel = 'may',
  ) {
    for (const [key, level] of Object.entries(entries)) {
      if (!isTlsLevel(level)) throw new RangeError(`unknown TLS policy level ${JSON.stringify(level)} for ${key}`);
      const k = canonicalName(key);
      if (k.startsWith('.')) this.parents.set(k.slice(1), level);
      else this.exact.set(k, level);
    }
  }

  lookup(domain: string): { level: TlsLevel; matched: string | null } {
    const d = canonicalName(domain);
    const hit = this.exact.get(d);
    if (hit) return { level: hit, matched: d };
    for (let i = d.indexOf('.'); i !== -1; i = d.indexOf('.', i + 1)) {
      const parent = d.slice(i + 1);
      const p = this.parents.get(parent);
      if (p) return { level: p, matched: `.${parent}` };
    }
    return { level: this.defaultLevel, matched: null };
  }
}
