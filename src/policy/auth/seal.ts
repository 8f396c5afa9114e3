/**
 * ARC sealing (RFC 8617) of mail postern forwards to outside addresses, so
 * the next receiver can see that the message passed authentication here even
 * when forwarding breaks SPF (and a footer would break DKIM).
 */
import { arc, dkimVerify, sealMessage } from 'mailauth';
import type { ARCData, DNSResolver } from 'mailauth';
import type { DnsResolver } from '../../net/dns/types.js';
import { mailauthResolver } from './resolver.js';
import { authservIdOf } from './strip.js';

export interface ArcSealOptions {
  readonly domain: string;
  readonly selector: string;
  /** PEM (RSA or Ed25519). */
  readonly privateKey: string;
  /** Our Authentication-Results value for the message (authserv-id first, no field name). */
  readonly authResults: string;
  /** Used to validate the chain already on the message; without it the arc= result in authResults decides cv=. */
  readonly resolver?: DnsResolver;
  readonly now?: () => number;
}

/** RFC 8617 §4.2.1: at most 50 ARC sets. */
const MAX_INSTANCES = 50;

/**
 * Returns the message with a new ARC set prepended; the message unchanged
 * when it must not be sealed (its chain already failed, or is full).
 * Rejects only when the key cannot sign (a configuration error).
 */
export async function arcSealForward(raw: Uint8Array, opts: ArcSealOptions): Promise<Uint8Array> {
  const message = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const authResults = opts.authResults.replace(/[\r\n]+/g, ' ').trim();
  if (authservIdOf(authResults) === null) throw new Error('ARC sealing needs an Authentication-Results value starting with an authserv-id');
  const chain = await chainState(message, authResults, opts.resolver);
  if (chain.instances >= MAX_INSTANCES) return raw;
  // A chain that failed before it reached us stays failed; sealing it again adds nothing (RFC 8617 §5.1.2).
  if (chain.cv === 'fail' && chain.lastCv === 'fail') return raw;
  const seal = {
    signingDomain: opts.domain,
    selector: opts.selector,
    privateKey: opts.privateKey,
    signTime: new Date(opts.now ? opts.now() : Date.now()),
    cv: chain.cv,
    authResults,
  };
  const headers = await sealMessage(message, seal);
  if (headers.length === 0) throw new Error('ARC sealing produced no header fields');
  return Buffer.concat([headers, message]);
}

interface ChainState {
  readonly instances: number;
  readonly cv: 'none' | 'pass' | 'fail';
  /** cv= of the newest existing seal. */
  readonly lastCv: string | null;
}

async function chainState(message: Buffer, authResults: string, resolver: DnsResolver | undefined): Promise<ChainState> {
  const dns = resolver ? (mailauthResolver(resolver) as DNSResolver) : undefined;
  // Without a resolver, no key is looked up: the verification below only reads the chain's shape.
  const offline: DNSResolver = async () => {
    throw Object.assign(new Error('no resolver'), { code: 'ENOTFOUND' });
  };
  const v = await dkimVerify(message, { resolver: dns ?? offline });
  const data = (v as { arc?: { chain?: unknown; lastEntry?: { i?: unknown; 'arc-seal'?: { parsed?: { cv?: { value?: unknown } } } }; error?: unknown } }).arc;
  const instances = Array.isArray(data?.chain) ? data.chain.length : 0;
  const lastCvRaw = data?.lastEntry?.['arc-seal']?.parsed?.cv?.value;
  const lastCv = typeof lastCvRaw === 'string' ? lastCvRaw.toLowerCase() : null;
  if (data?.error) return { instances, cv: 'fail', lastCv };
  if (instances === 0) return { instances, cv: 'none', lastCv };
  if (dns) {
    const r = await arc({ chain: data?.chain, lastEntry: data?.lastEntry } as ARCData, { resolver: dns });
    return { instances, cv: r.status.result === 'pass' ? 'pass' : 'fail', lastCv };
  }
  const said = /(?:^|;)\s*arc\s*=\s*([a-z]+)/i.exec(authResults.slice(0, 8192))?.[1]?.toLowerCase();
  return { instances, cv: said === 'pass' ? 'pass' : 'fail', lastCv };
}
