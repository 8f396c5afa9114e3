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

export interface SignInput {
  readonly message: Buffer;
  readonly source: 'mx' | 'submission' | 'local';
}

export type SignResult =
  | { readonly signed: true; readonly message: Buffer; readonly domain: string; readonly selector: string }
  | { readonly signed: false; readonly message: Buffer; readonly why: string };

/** Headers covered by the signature; From twice-listed guards against a second From being added later. */
const HEADERS = ['from', 'from', 'to', 'cc', 'subject', 'date', 'message-id', 'reply-to', 'in-reply-to', 'references', 'mime-version', 'content-type', 'content-transfer-encoding', 'list-id', 'list-unsubscribe'];

export class DkimSigner {
  constructor(
    private readonly keys: DkimKeySource,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws when the domain has a key that cannot be used: the caller defers rather than send unsigned. */
  async sign(input: SignInput): Promise<SignResult> {
    const { message } = input;
    if (input.source === 'mx') return { signed: false, message, why: 'relayed from the Internet' };
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
}

export function fromDomain(message: Buffer): string | null {
  const header = parseHeaderSection(message, { maxHeaderBytes: 256 * 1024 });
  const from = headerValue(header.fields, 'from');
  if (!from) return null;
  const first = parseAddressList(from).find((a) => a.address.includes('@'));
  if (!first) return null;
  return first.address.slice(first.address.lastIndexOf('@') + 1).toLowerCase() || null;
}
