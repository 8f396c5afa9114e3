/**
 * Judges a finished TLS handshake against a host policy. The TLS stack is
 * run with rejectUnauthorized=false so that every outcome is seen here and
 * reported with its reason; this function alone decides whether the session
 * may carry mail.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { daneVerify } from './dane.js';
import type { HostPolicy, TlsFailure, TlsResultType } from './types.js';

export interface PeerTls {
  /** Node's chain verification against the configured roots (and the servername check). */
  readonly authorized: boolean;
  readonly authorizationError: string | null;
  /** DER, leaf first. */
  readonly chain: readonly Buffer[];
}

export type PeerVerdict = { ok: true; verified: 'pkix' | 'dane' | 'none' } | { ok: false; failure: TlsFailure };

export function judgePeer(policy: HostPolicy, peer: PeerTls, now: number): PeerVerdict {
  if (policy.auth === 'none') return { ok: true, verified: 'none' };
  if (policy.auth === 'dane') {
    const r = daneVerify(policy.tlsa, peer.chain, policy.names, now);
    return r.ok ? { ok: true, verified: 'dane' } : { ok: false, failure: { resultType: 'tlsa-invalid', reason: r.reason } };
  }
  if (!peer.authorized) {
    const code = peer.authorizationError ?? 'unknown';
    return { ok: false, failure: { resultType: pkixResultType(code), reason: `certificate not accepted: ${code}` } };
  }
  // Node checked the servername; every name the policy lists must be checked too.
  const leaf = peer.chain[0];
  if (!leaf) return { ok: false, failure: { resultType: 'certificate-not-trusted', reason: 'peer sent no certificate' } };
  const hostOk = policy.names.some((n) => checkServerIdentity(n, peerCertificate(leaf)) === undefined);
  if (!hostOk) return { ok: false, failure: { resultType: 'certificate-host-mismatch', reason: `certificate does not match ${policy.names.join(', ')}` } };
  return { ok: true, verified: 'pkix' };
}

export function pkixResultType(code: string): TlsResultType {
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return 'certificate-expired';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /HOSTNAME|ALTNAME/.test(code)) return 'certificate-host-mismatch';
  return 'certificate-not-trusted';
}

/** The subset of a PeerCertificate that checkServerIdentity reads. */
function peerCertificate(der: Buffer): PeerCertificate {
  const x = new X509Certificate(der);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1];
  return { subject: cn ? { CN: cn } : {}, subjectaltname: x.subjectAltName ?? undefined } as unknown as PeerCertificate;
}
