/**
 * Row mapping for the certificates role, shared by the SQLite and PostgreSQL
 * backends so both hand back the same StoredCertificate.
 */
import type { CertificateSource, StoredCertificate } from '../types.js';

export interface CertificateRow {
  id: number;
  address: string;
  der: Uint8Array;
  fingerprint: string;
  source: string;
  not_before: number;
  not_after: number;
  added_at: number;
  revoked: number | boolean;
}

const SOURCES: readonly CertificateSource[] = ['uploaded', 'issued', 'learned'];
const FINGERPRINT_RE = /^[0-9a-f]{64}$/;

export function toStoredCertificate(r: CertificateRow): StoredCertificate {
  const source = (SOURCES as readonly string[]).includes(r.source) ? (r.source as CertificateSource) : 'uploaded';
  return {
    id: Number(r.id),
    address: r.address,
    der: new Uint8Array(r.der),
    fingerprint: r.fingerprint,
    source,
    notBefore: Number(r.not_before),
    notAfter: Number(r.not_after),
    addedAt: Number(r.added_at),
    revoked: r.revoked === true || r.revoked === 1,
  };
}

/** Addresses compare case-insensitively; a fingerprint is sha256 hex (lowercased). Bad input throws RangeError and changes nothing. */
export function normaliseCertificate(c: { address: string; fingerprint: string; source: CertificateSource; der: Uint8Array; notBefore: number; notAfter: number }): {
  address: string;
  fingerprint: string;
} {
  const address = c.address.trim().toLowerCase();
  const fingerprint = c.fingerprint.toLowerCase();
  if (!address.includes('@') || address.length > 320) throw new RangeError(`certificate address ${JSON.stringify(c.address.slice(0, 64))} is not an address`);
  if (!FINGERPRINT_RE.test(fingerprint)) throw new RangeError('certificate fingerprint must be 64 hex digits (sha256)');
  if (!SOURCES.includes(c.source)) throw new RangeError(`certificate source must be one of ${SOURCES.join(', ')}`);
  if (c.der.length === 0) throw new RangeError('certificate is empty');
  if (!Number.isSafeInteger(c.notBefore) || !Number.isSafeInteger(c.notAfter)) throw new RangeError('certificate validity must be unix ms integers');
  return { address, fingerprint };
}
