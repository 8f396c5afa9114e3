import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key limits and throttles count a client address under. "::ffff:192.0.2.1"
 * and "192.0.2.1" are one client; an IPv6 client is its /64, since one host is
 * routinely given a whole /64 and could otherwise step to a fresh address for
 * every connection or guess. Anything else is used as it is.
 */
export function clientKey(address: string): string {
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) return lower.slice(7);
  if (!isIPv6(lower)) return address;
  const hextets = expand(lower.split('%')[0]!);
  return hextets ? `${hextets.slice(0, 4).join(':')}::/64` : address;
}

/** The eight hextets of an IPv6 address (without zone), or null if it is not one we can read. */
function expand(ip: string): string[] | null {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const parts = (s: string | undefined): string[] => (s ? s.split(':') : []);
  const left = parts(head);
  const right = parts(tail);
  // An embedded IPv4 tail (::1.2.3.4 forms) takes two hextets; only the first four matter here.
  const last = right.length > 0 ? right : left;
  if (last.length > 0 && isIPv4(last[last.length - 1]!)) last.splice(last.length - 1, 1, '0', '0');
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  return all.map((h) => h.replace(/^0+(?=.)/, ''));
}
