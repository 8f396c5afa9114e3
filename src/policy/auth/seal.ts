/**
 * ARC sealing (RFC 8617) of mail postern forwards to outside addresses, so
 * the next receiver can see that the message passed authentication here even
 * when forwarding breaks SPF (and a footer would break DKIM).
 */
import { arc, dkimVerify, sealMessage } from 'mailauth';
import type { ARCData, DNSResolver } from 'mailauth';
import type { DnsResolver } from '../../net/dns/types.js';
import { mailauthResolver } from './resolver.js';
import { parseHeaderSection } from '../../codec/mime/header.js';
import { authservIdOf, MAX_HEADER_BYTES } from './strip.js';

export interface ArcSealOptions {
  readonly domain: string;
  readonly selector: string;
  /** PEM (RSA or Ed25519). */
  readonly privateKey: string;
  /** Our Authentication-Results value for the message (authserv-id first, no field name). */
  readonly authResults: string;
  /**
   * Validates the chain already on the message when authResults has no arc= result (authResults,
   * computed on arrival, decides otherwise); with neither, an existing chain is sealed as cv=fail.
   */
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
  // A chain some sealer already marked failed stays failed; sealing it again adds nothing (RFC 8617 §5.1.2).
  if (chain.cv === 'fail' && chain.markedFailed) return raw;
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
  /** An existing ARC-Seal says cv=fail. */
  readonly markedFailed: boolean;
}

async function chainState(message: Buffer, authResults: string, resolver: DnsResolver | undefined): Promise<ChainState> {
  const dns = resolver ? (mailauthResolver(resolver) as DNSResolver) : undefined;
  // Without a resolver, no key is looked up: the verification below only reads the chain's shape.
  const offline: DNSResolver = async () => {
    throw Object.assign(new Error('no resolver'), { code: 'ENOTFOUND' });
  };
  const v = await dkimVerify(message, { resolver: dns ?? offline });
  const data = (v as { arc?: { chain?: unknown; lastEntry?: unknown; error?: unknown } }).arc;
  // mailauth refuses to parse a chain with cv=fail past i=1 (or over 50 sets), so count and read the seals directly.
  const header = parseHeaderSection(message, { maxHeaderBytes: MAX_HEADER_BYTES });
  const seals = header.fields.filter((f) => f.name.toLowerCase() === 'arc-seal');
  const instances = Math.max(Array.isArray(data?.chain) ? data.chain.length : 0, seals.length);
  const markedFailed = seals.some((f) => /(?:^|;)\s*cv\s*=\s*fail\s*(?:;|$)/i.test(f.value.slice(0, 8192)));
  if (data?.error) return { instances, cv: 'fail', markedFailed };
  if (instances === 0) return { instances, cv: 'none', markedFailed };
  // What the chain was on arrival, before postern changed anything, is what cv= states (RFC 8617 §5.1.1).
  const said = /(?:^|;)\s*arc\s*=\s*([a-z]+)/i.exec(authResults.slice(0, 8192))?.[1]?.toLowerCase();
  if (said === 'pass' || said === 'fail') return { instances, cv: said, markedFailed };
  if (dns) {
    const r = await arc({ chain: data?.chain, lastEntry: data?.lastEntry } as ARCData, { resolver: dns });
    return { instances, cv: r.status.result === 'pass' ? 'pass' : 'fail', markedFailed };
  }
  return { instances, cv: 'fail', markedFailed };
}
