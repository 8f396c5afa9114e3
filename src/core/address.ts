/**
 * Mail address helpers. Addresses are compared case-insensitively on the domain
 * and, by postern's policy, on the local part too (as nearly every real server does).
 *
 * Internationalised addresses (RFC 6531/6532): a local part may hold UTF-8
 * (kept in NFC, so the same name typed on two systems is the same string) and
 * a domain may be written with U-labels; domains are kept and compared in
 * their A-label form ("bücher.example" is "xn--bcher-kva.example"), which is
 * also what DNS needs. Whether a session may use such an address at all is
 * the protocol's business (SMTPUTF8), not this file's.
 */
import { domainToASCII } from 'node:url';

export interface ParsedAddress {
  readonly local: string;
  readonly domain: string;
}

/**
 * RFC 5321 4.5.3.1.3: a path holds at most 256 octets, angle brackets
 * included. The local part's own 64 is not enforced: real forwarding
 * addresses exceed it, and the path limit bounds everything that matters.
 */
const MAX_ADDRESS = 254;

// Characters never legitimate in an address: C0 and C1 controls, DEL, and the
// invisible formatting characters (zero-width, bidi overrides) that make one
// address look like another.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
const ASCII_SPECIALS = /[\s<>()[\]\\,;:"\x00-\x1f\x7f]/;
const ASCII_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** Whether every character is ASCII. */
export function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex -- the whole 7-bit range
  return /^[\x00-\x7f]*$/.test(s);
}

/** No lone surrogate (a pair read as one code point is not matched by \p{Cs}). */
function wellFormed(s: string): boolean {
  return !/\p{Cs}/u.test(s);
}

/** A domain (ASCII, A-labels or U-labels) in lower-case A-label form, or null. */
function aLabelDomain(domain: string): string | null {
  let d = domain;
  if (!isAscii(d) || /(^|\.)xn--/i.test(d)) {
    if (!wellFormed(d) || UNSAFE.test(d)) return null;
    // UTS 46 processing: U-labels to A-labels, and A-labels checked to decode.
    d = domainToASCII(d.normalize('NFC'));
    if (d === '') return null;
  }
  const labels = d.split('.');
  if (d.length > 253 || !labels.every((l) => l.length <= 63 && ASCII_LABEL.test(l))) return null;
  return d.toLowerCase();
}

export function parseAddress(input: string): ParsedAddress | null {
  const a = input.trim();
  if (a.length === 0 || a.length > MAX_ADDRESS * 4) return null;
  const at = a.lastIndexOf('@');
  if (at <= 0 || at === a.length - 1) return null;
  const raw = a.slice(0, at);
  // ASCII (nearly every address) is its own NFC: the checks below are all it needs.
  const ascii = isAscii(raw);
  const local = ascii ? raw : raw.normalize('NFC');
  if (UNSAFE.test(local) || (!ascii && !wellFormed(local))) return null;
  // A quoted local part may hold specials and spaces, but no control characters (RFC 5321 qtextSMTP).
  if (ASCII_SPECIALS.test(local) && !/^"[^"\\]*"$/.test(local)) return null;
  // Each label: letters, digits and inner hyphens (RFC 5321 Domain; no "-example-").
  const domain = aLabelDomain(a.slice(at + 1));
  if (domain === null || (ascii ? local.length : Buffer.byteLength(local, 'utf8')) + 1 + domain.length > MAX_ADDRESS) return null;
  return { local, domain };
}

export function normalizeAddress(input: string): string | null {
  const p = parseAddress(input);
  return p ? `${p.local.toLowerCase()}@${p.domain}` : null;
}

export function normalizeDomain(input: string): string | null {
  const d = input.trim().replace(/\.$/, '');
  if (!isAscii(d) || /(^|\.)xn--/i.test(d)) return aLabelDomain(d);
  const l = d.toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(l)) return null;
  return l;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
