/**
 * Mail address helpers. Addresses are compared case-insensitively on the domain
 * and, by postern's policy, on the local part too (as nearly every real server does).
 */
export interface ParsedAddress {
  readonly local: string;
  readonly domain: string;
}

const MAX_ADDRESS = 254;

export function parseAddress(input: string): ParsedAddress | null {
  const a = input.trim();
  if (a.length === 0 || a.length > MAX_ADDRESS) return null;
  const at = a.lastIndexOf('@');
  if (at <= 0 || at === a.length - 1) return null;
  const local = a.slice(0, at);
  const domain = a.slice(at + 1);
  // A quoted local part may hold specials and spaces, but no control characters (RFC 5321 qtextSMTP).
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
  if (/[\s<>()[\]\\,;:"\x00-\x1f\x7f]/.test(local) && !/^"[^"\\\x00-\x1f\x7f]*"$/.test(local)) return null;
  // Each label: letters, digits and inner hyphens (RFC 5321 Domain; no "-example-").
  if (!domain.split('.').every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(l))) return null;
  return { local, domain: domain.toLowerCase() };
}

export function normalizeAddress(input: string): string | null {
  const p = parseAddress(input);
  return p ? `${p.local.toLowerCase()}@${p.domain}` : null;
}

export function normalizeDomain(input: string): string | null {
  const d = input.trim().toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(d)) return null;
  return d;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
