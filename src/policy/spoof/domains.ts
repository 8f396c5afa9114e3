/** Domain helpers: comparison forms, ownership and organisational domains. */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { getDomain, getPublicSuffix } from 'tldts';
import { memoized } from './memo.js';

const MAX_DOMAIN = 255;

/** The domain part of an address, lower-cased, without a trailing dot; '' when none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return '';
  return cleanDomain(address.slice(at + 1));
}

export function cleanDomain(domain: string): string {
  let d = domain.trim().toLowerCase();
  if (d.startsWith('[')) return d; // address literal
  if (d.endsWith('.')) d = d.slice(0, -1);
  return d.length > MAX_DOMAIN ? d.slice(0, MAX_DOMAIN) : d;
}

/** A-label form for comparison; the input itself when it is not a valid IDN. */
export const asciiDomain = memoized(toAscii);

function toAscii(domain: string): string {
  const d = cleanDomain(domain);
  if (d === '' || d.startsWith('[')) return d;
  const a = domainToASCII(d);
  return a === '' ? d : a;
}

/** U-label form (what a reader sees); the input itself when it cannot be decoded. */
export const unicodeDomain = memoized(toUnicode);

function toUnicode(domain: string): string {
  const d = cleanDomain(domain);
  if (d === '' || d.startsWith('[')) return d;
  const u = domainToUnicode(asciiDomain(d));
  return u === '' ? d : u;
}

/** True when `domain` is one of `owned` or a subdomain of one (compared in A-label form). */
export function isOwned(domain: string, owned: readonly string[]): boolean {
  const d = asciiDomain(domain);
  if (d === '') return false;
  for (const o of owned) {
    const a = asciiDomain(o);
    if (a !== '' && (d === a || d.endsWith(`.${a}`))) return true;
  }
  return false;
}

/** The organisational (registrable) domain, A-label form; the domain itself when there is none. */
export const orgDomain = memoized(toOrg);

function toOrg(domain: string): string {
  const d = asciiDomain(domain);
  if (d === '' || d.startsWith('[')) return d;
  return getDomain(d) ?? d;
}

/** The registrable label and the public suffix, e.g. "example" and "co.uk"; U-label form (shared: do not change it). */
export const splitRegistrable: (domain: string) => Readonly<{ label: string; suffix: string }> = memoized(toRegistrable);

function toRegistrable(domain: string): Readonly<{ label: string; suffix: string }> {
  const org = orgDomain(domain);
  const suffix = getPublicSuffix(org) ?? '';
  const label = suffix && org.endsWith(`.${suffix}`) ? org.slice(0, -suffix.length - 1) : org;
  const lastDot = label.lastIndexOf('.');
  const reg = lastDot >= 0 ? label.slice(lastDot + 1) : label;
  return { label: unicodeDomain(reg), suffix };
}

const lists = new WeakMap<readonly string[], BlockList>();

function blockList(cidrs: readonly string[]): BlockList {
  const cached = lists.get(cidrs);
  if (cached) return cached;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.trim().split('/');
    if (!net) continue;
    const type = isIPv4(net) ? 'ipv4' : isIPv6(net) ? 'ipv6' : null;
    if (!type) continue;
    const max = type === 'ipv4' ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) continue;
    list.addSubnet(net, prefix, type);
  }
  lists.set(cidrs, list);
  return list;
}

/** True when the client address lies in one of the CIDRs (IPv4-mapped IPv6 counts as IPv4). */
export function inNetworks(address: string, cidrs: readonly string[]): boolean {
  if (cidrs.length === 0) return false;
  let a = address.trim();
  if (a.toLowerCase().startsWith('::ffff:') && isIPv4(a.slice(7))) a = a.slice(7);
  const type = isIPv4(a) ? 'ipv4' : isIPv6(a) ? 'ipv6' : null;
  if (!type) return false;
  return blockList(cidrs).check(a, type);
}
