/**
 * The name a request was sent to, from its Host header: lower-cased, without
 * port or trailing dot. IP literals and anything that is not a DNS name give
 * null, so they never match a mail domain.
 */
import { normalizeDomain } from '../../core/address.js';

export function requestHost(header: string | undefined): string | null {
  if (!header || header.length > 255) return null;
  const m = /^([A-Za-z0-9.-]+?)\.?(?::\d{1,5})?$/.exec(header.trim());
  if (!m) return null;
  const name = normalizeDomain(m[1]!);
  return name && name.includes('.') && !/^[\d.]+$/.test(name) ? name : null;
}

/** "example.org" for host "mta-sts.example.org" and label "mta-sts"; null when the host is not directly below such a label. */
export function domainBelow(host: string | null, label: string): string | null {
  if (!host || !host.startsWith(`${label}.`)) return null;
  const rest = host.slice(label.length + 1);
  return rest.includes('.') ? rest : null;
}
