/**
 * Adapts postern's DnsResolver (answers as data) to the resolver function
 * mailauth calls, which speaks like dns.promises.resolve: records on success,
 * an error with a `.code` otherwise. mailauth reads ENOTFOUND/ENODATA as "no
 * record" and every other code as a temporary DNS failure.
 */
import type { DnsAnswer, DnsResolver } from '../../net/dns/types.js';

export type MailauthResolver = (name: string, rrtype: string) => Promise<unknown>;

/** Lookups one message may cause in all (SPF for MAIL FROM and HELO, DKIM keys, DMARC, ARC keys). */
export const DEFAULT_MAX_LOOKUPS = 50;

export interface ResolverOptions {
  /** Lookups allowed through this adapter; the one after the last fails as a temporary error. */
  readonly maxLookups?: number;
  /** Called with each name whose lookup failed temporarily (for telling an ARC DNS failure from a bad seal). */
  readonly onTempError?: (name: string) => void;
}

export interface DnsError extends Error {
  code: string;
}

function dnsError(code: string, message: string): DnsError {
  // Every missing record of every message is one of these, and only code and
  // message are read: capturing a stack trace for each was most of their cost.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const err = new Error(message) as DnsError;
  Error.stackTraceLimit = limit;
  err.code = code;
  return err;
}

/**
 * One adapter per message: the lookup count is what bounds the message. Over
 * the cap a lookup is a temporary failure, never "no record": an attacker who
 * piles up signatures to exhaust the budget must not turn DMARC into "none".
 */
export function mailauthResolver(dns: DnsResolver, opts: ResolverOptions = {}): MailauthResolver {
  const max = opts.maxLookups ?? DEFAULT_MAX_LOOKUPS;
  let count = 0;
  return async (name: string, rrtype: string): Promise<unknown> => {
    count += 1;
    if (count > max) {
      opts.onTempError?.(name);
      throw dnsError('ETIMEOUT', `DNS lookup limit of ${max} per message reached`);
    }
    const type = rrtype.toUpperCase();
    const ask = async <T, U>(lookup: () => Promise<DnsAnswer<T>>, map: (r: T) => U): Promise<U[]> => {
      let answer: DnsAnswer<T>;
      try {
        answer = await lookup();
      } catch (err) {
        // A resolver should answer temperror, not throw; treat a throw the same way.
        answer = { status: 'temperror', reason: err instanceof Error ? err.message : 'resolver failed' };
      }
      return unwrap(answer, name, type, opts, map);
    };
    switch (type) {
      case 'TXT':
        // One chunk per record: mailauth joins the chunks of each record anyway.
        return ask(() => dns.txt(name), (r) => [r]);
      case 'MX':
        return ask(() => dns.mx(name), (r) => ({ exchange: r.exchange, priority: r.preference }));
      case 'A':
        return ask(() => dns.a(name), (r) => r);
      case 'AAAA':
        return ask(() => dns.aaaa(name), (r) => r);
      case 'PTR': {
        const ptr = dns.ptr?.bind(dns);
        if (ptr) return ask(() => ptr(name), (r) => r);
        throw dnsError('ENOTFOUND', `${type} ${name}: not supported`);
      }
      default:
        throw dnsError('ENOTFOUND', `${type} ${name}: not supported`);
    }
  };
}

function unwrap<T, U>(answer: DnsAnswer<T>, name: string, type: string, opts: ResolverOptions, map: (r: T) => U): U[] {
  switch (answer.status) {
    case 'ok':
      return answer.records.map(map);
    case 'nxdomain':
      throw dnsError('ENOTFOUND', `${type} ${name}: NXDOMAIN`);
    case 'nodata':
      throw dnsError('ENODATA', `${type} ${name}: no data`);
    default:
      opts.onTempError?.(name);
      throw dnsError('ETIMEOUT', `${type} ${name}: ${answer.reason}`);
  }
}
