/**
 * Keys for what the admin listener publishes without a token: [mta_sts], the
 * policy served at https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC
 * 8461), and [pki] crl_url, the address certificates of the organisation CA
 * name as their CRL distribution point.
 */
import { z } from 'zod';
import { normalizeDomain } from '../core/address.js';
import { bool, int, oneOf, table } from './values.js';

const DAY = 86_400;
/** RFC 8461 3.2: max_age is at most 31557600 seconds (one year). */
export const MTA_STS_MAX_AGE_LIMIT = 31_557_600;

/** An MX host name, or "*.example.org" for exactly one leftmost label (RFC 8461 4.1). */
const isMxPattern = (v: unknown): boolean => {
  if (typeof v !== 'string') return false;
  const host = v.startsWith('*.') ? v.slice(2) : v;
  return normalizeDomain(host) === host && host.includes('.');
};

const mxList = () =>
  z.custom<string[]>((v) => Array.isArray(v) && v.length <= 32 && v.every(isMxPattern), {
    abort: false,
    error: () => 'expected a list of up to 32 lower-case MX host names or "*.example.org" patterns, e.g. ["mail.example.org"]',
  });

export function mtaStsSection() {
  return table({
    // Serve the policy (the admin listener must be reachable as mta-sts.<domain> on port 443).
    enabled: bool().default(true),
    // "testing": senders report failures but still deliver; "enforce": they refuse to deliver without valid TLS.
    mode: oneOf(['testing', 'enforce', 'none']).default('testing'),
    // Seconds senders may cache the policy (RFC 8461 recommends weeks).
    max_age: int(DAY, MTA_STS_MAX_AGE_LIMIT).default(7 * DAY),
    // MX host names senders accept; empty = server.hostname.
    mx: mxList().default([]),
  }).prefault({});
}

/** An https:// URL without credentials, fragment or white space, at most 512 characters. */
const isCrlUrl = (v: unknown): boolean => {
  if (typeof v !== 'string' || v.length > 512 || /[\s"<>\\^`{|}]/.test(v)) return false;
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '' && u.hash === '' && normalizeDomain(u.hostname) !== null;
  } catch {
    return false;
  }
};

export function pkiSection() {
  return table({
    // Put into issued certificates as the CRL distribution point, e.g. "https://mail.example.org/pki/crl.crl".
    crl_url: z
      .custom<string>(isCrlUrl, { abort: false, error: (iss) => `expected an http:// or https:// URL of the CRL (no user, no #fragment), got ${JSON.stringify(String(iss.input).slice(0, 60))}` })
      .optional(),
  }).prefault({});
}

/** The CRL distribution point `postern pki issue` should write into certificates; null when none is configured. */
export function crlDistributionPoint(config: { readonly pki: { readonly crl_url?: string | undefined } }): string | null {
  return config.pki.crl_url ?? null;
}
