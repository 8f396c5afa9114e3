/**
 * DANE for SMTP (RFC 7672, RFC 7671): matching a peer's certificate chain
 * against DNSSEC-authenticated TLSA records. Only DANE-TA(2) and DANE-EE(3)
 * are usable for SMTP; PKIX-TA(0) and PKIX-EE(1) records are ignored.
 * DANE-EE checks neither names nor dates (RFC 7672 3.1.1); DANE-TA requires a
 * valid chain from the leaf up to the matched trust anchor and a name match.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { TlsaRecord } from '../../net/dns/types.js';

export function tlsaUsable(r: TlsaRecord): boolean {
  return (r.usage === 2 || r.usage === 3) && (r.selector === 0 || r.selector === 1) && r.matchingType >= 0 && r.matchingType <= 2;
}

export function tlsaText(r: TlsaRecord): string {
  return `${r.usage} ${r.selector} ${r.matchingType} ${r.data.toString('hex')}`;
}

/** The TLSA owner name for a host and port: _25._tcp.mx.example.org. */
export function tlsaName(host: string, port: number): string {
  return `_${port}._tcp.${host}`;
}

function selected(cert: X509Certificate, selector: number): Buffer {
  return selector === 0 ? cert.raw : (cert.publicKey.export({ type: 'spki', format: 'der' }) as Buffer);
}

export function tlsaMatches(r: TlsaRecord, cert: X509Certificate): boolean {
  const data = selected(cert, r.selector);
  const digest = r.matchingType === 0 ? data : createHash(r.matchingType === 1 ? 'sha256' : 'sha512').update(data).digest();
  return digest.length === r.data.length && digest.equals(r.data);
}

export type DaneResult = { ok: true; match: 'DANE-EE' | 'DANE-TA' } | { ok: false; reason: string };

/**
 * `chain` is the peer's chain as DER, leaf first. `names` are the reference
 * identifiers for DANE-TA (the MX host name); `now` checks DANE-TA validity.
 */
export function daneVerify(records: readonly TlsaRecord[], chain: readonly Buffer[], names: readonly string[], now: number): DaneResult {
  const usable = records.filter(tlsaUsable);
  if (usable.length === 0) return { ok: false, reason: 'no usable TLSA record' };
  if (chain.length === 0) return { ok: false, reason: 'peer sent no certificate' };
  let certs: X509Certificate[];
  try {
    certs = chain.map((d) => new X509Certificate(d));
  } catch {
    return { ok: false, reason: 'peer certificate does not parse' };
  }
  const leaf = certs[0]!;
  if (usable.some((r) => r.usage === 3 && tlsaMatches(r, leaf))) return { ok: true, match: 'DANE-EE' };
  for (const r of usable.filter((x) => x.usage === 2)) {
    for (let i = 0; i < certs.length; i++) {
      if (!tlsaMatches(r, certs[i]!)) continue;
      if (chainValid(certs.slice(0, i + 1), now) && names.some((n) => leaf.checkHost(n, { subject: 'default' }) !== undefined)) {
        return { ok: true, match: 'DANE-TA' };
      }
    }
  }
  return { ok: false, reason: `certificate matches none of ${usable.length} TLSA record(s)` };
}

/** Each certificate is issued and signed by the next, and all but the anchor are within their dates. */
function chainValid(certs: readonly X509Certificate[], now: number): boolean {
  for (let i = 0; i < certs.length - 1; i++) {
    const c = certs[i]!;
    const issuer = certs[i + 1]!;
    if (!c.checkIssued(issuer) || !c.verify(issuer.publicKey)) return false;
    if (Date.parse(c.validFrom) > now || Date.parse(c.validTo) < now) return false;
  }
  return true;
}
