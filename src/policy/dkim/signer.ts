/**
 * DKIM signing of outbound mail (RFC 6376, relaxed/relaxed) with mailauth.
 * The signing domain is the From: domain, so the signature aligns for DMARC;
 * only mail that came from our own users (submission or locally generated) is
 * signed, never mail that arrived from the Internet and is being forwarded.
 */
import { dkimSign } from 'mailauth';
import { headerValue, parseHeaderSection } from '../../codec/mime/header.js';
import { parseAddressList } from '../../codec/mime/address.js';
import type { DkimKeySource } from './keys.js';
import { arcSealForward } from '../auth/seal.js';
import { authservIdOf } from '../auth/strip.js';

export interface SignInput {
  readonly message: Buffer;
  readonly source: 'mx' | 'submission' | 'local';
  /**
   * For mail from the Internet forwarded to an outside address (an alias):
   * the local domain it was addressed to, whose key ARC-seals it.
   */
  readonly forwardedBy?: string | null;
}

export type SignResult =
  | { readonly signed: true; readonly message: Buffer; readonly domain: string; readonly selector: string; readonly arc?: boolean }
  | { readonly signed: false; readonly message: Buffer; readonly why: string };

/** Headers covered by the signature; From twice-listed guards against a second From being added later. */
const HEADERS = ['from', 'from', 'to', 'cc', 'subject', 'date', 'message-id', 'reply-to', 'in-reply-to', 'references', 'mime-version', 'content-type', 'content-transfer-encoding', 'list-id', 'list-unsubscribe'];

export class DkimSigner {
  constructor(
    private readonly keys: DkimKeySource,
    private readonly now: () => number = Date.now,
    /** Our authserv-id: forwarded mail is ARC-sealed with the Authentication-Results we added on arrival. */
    private readonly authservId: string | null = null,
  ) {}

  /** Throws when the domain has a key that cannot be used: the caller defers rather than send unsigned. */
  async sign(input: SignInput): Promise<SignResult> {
    const { message } = input;
    if (input.source === 'mx') return this.seal(message, input.forwardedBy ?? null);
    const domain = fromDomain(message);
    if (!domain) return { signed: false, message, why: 'no From domain' };
    const key = await this.keys.keyFor(domain);
    if (!key) return { signed: false, message, why: `no DKIM key for ${domain}` };
    const signature = { signingDomain: key.domain, selector: key.selector, privateKey: key.privateKeyPem, algorithm: key.algorithm, canonicalization: 'relaxed/relaxed' };
    // mailauth signs only what is listed in signatureData; the top-level copy satisfies its type declarations.
    const r = await dkimSign(message, { ...signature, signatureData: [signature], headerList: HEADERS, signTime: new Date(this.now()) });
    if (r.errors.length > 0 || !r.signatures.startsWith('DKIM-Signature:')) {
      throw new Error(`DKIM signing for ${domain} failed: ${r.errors.map((e) => e.message).join('; ') || 'no signature'}`);
    }
    return { signed: true, message: Buffer.concat([Buffer.from(r.signatures, 'latin1'), message]), domain: key.domain, selector: key.selector };
  }

  /**
   * ARC (RFC 8617) for mail we forward: never a DKIM signature of ours on
   * someone else's From, but a seal that vouches for what we verified.
   */
  private async seal(message: Buffer, domain: string | null): Promise<SignResult> {
    if (!domain || !this.authservId) return { signed: false, message, why: 'relayed from the Internet' };
    const ours = ownAuthResults(message, this.authservId);
    if (!ours) return { signed: false, message, why: 'relayed from the Internet, not verified here' };
    const key = await this.keys.keyFor(domain);
    if (!key) return { signed: false, message, why: `no key for ${domain} to ARC-seal with` };
    const sealed = await arcSealForward(message, { domain: key.domain, selector: key.selector, privateKey: key.privateKeyPem, authResults: ours, now: this.now });
    if (sealed.length === message.length) return { signed: false, message, why: 'ARC chain not to be sealed again' };
    return { signed: true, message: Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength), domain: key.domain, selector: key.selector, arc: true };
  }
}

/** The value of the first Authentication-Results field that carries our authserv-id. */
export function ownAuthResults(message: Buffer, authservId: string): string | null {
  const header = parseHeaderSection(message, { maxHeaderBytes: 256 * 1024 });
  for (const f of header.fields) {
    if (f.name.toLowerCase() !== 'authentication-results') continue;
    if (authservIdOf(f.value)?.toLowerCase() === authservId.toLowerCase()) return f.value;
  }
  return null;
}

export function fromDomain(message: Buffer): string | null {
  const header = parseHeaderSection(message, { maxHeaderBytes: 256 * 1024 });
  const from = headerValue(header.fields, 'from');
  if (!from) return null;
  const first = parseAddressList(from).find((a) => a.address.includes('@'));
  if (!first) return null;
  return first.address.slice(first.address.lastIndexOf('@') + 1).toLowerCase() || null;
}
