/**
 * DMARC identifier alignment (RFC 7489 §3.1). mailauth's own check treats
 * strict like relaxed, so postern compares domains itself; the organizational
 * domain comes from the same public suffix list mailauth uses (tldts).
 */
import { getDomain } from 'tldts';
import type { AlignmentMode } from './types.js';

/** Lower-case, no trailing dot. */
export function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '');
}

/** The organizational domain (RFC 7489 §3.2): the public suffix plus one label; the name itself when unknown. */
export function organizationalDomain(domain: string): string {
  const d = normalizeDomain(domain);
  if (d.length === 0 || d.length > 253) return d;
  // Private suffixes (e.g. blogspot.com) count, as mailauth counts them.
  const org = getDomain(d, { allowPrivateDomains: true });
  return org ? org : d;
}

/** Whether `authenticated` (SPF domain or DKIM d=) aligns with the From domain under `mode`. */
export function aligned(fromDomain: string, authenticated: string, mode: AlignmentMode): boolean {
  const a = normalizeDomain(fromDomain);
  const b = normalizeDomain(authenticated);
  if (a.length === 0 || b.length === 0) return false;
  if (mode === 's') return a === b;
  return organizationalDomain(a) === organizationalDomain(b);
}
