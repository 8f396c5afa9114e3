/**
 * TLS policy for outbound SMTP, per destination (after Postfix's
 * smtp_tls_policy_maps). A level says what a connection to a destination must
 * achieve before any MAIL FROM is sent.
 */
import type { TlsaRecord } from '../../net/dns/types.js';

export const TLS_LEVELS = ['none', 'may', 'encrypt', 'verify', 'dane', 'dane-only', 'mta-sts'] as const;
export type TlsLevel = (typeof TLS_LEVELS)[number];

export function isTlsLevel(s: string): s is TlsLevel {
  return (TLS_LEVELS as readonly string[]).includes(s);
}

/** RFC 8460 4.3 result types, as they appear in TLS-RPT reports. */
export type TlsResultType =
  | 'starttls-not-supported'
  | 'certificate-host-mismatch'
  | 'certificate-expired'
  | 'certificate-not-trusted'
  | 'validation-failure'
  | 'tlsa-invalid'
  | 'dnssec-invalid'
  | 'dane-required'
  | 'sts-policy-fetch-error'
  | 'sts-policy-invalid'
  | 'sts-webpki-invalid';

/** The policy block of a TLS-RPT report (RFC 8460 4.4). */
export interface ReportPolicy {
  readonly type: 'sts' | 'tlsa' | 'no-policy-found';
  /** The policy as published: MTA-STS policy lines, or TLSA records in presentation form. */
  readonly strings: readonly string[];
  /** The recipient domain (or the relay host) the policy belongs to. */
  readonly domain: string;
  /** MX patterns of an MTA-STS policy. */
  readonly mxPatterns?: readonly string[];
}

/** What a connection to one host must achieve; computed before connecting. */
export interface HostPolicy {
  /** The level that produced this policy, after resolution (`dane` that found no TLSA reads `may`). */
  readonly level: TlsLevel;
  /** off: never STARTTLS; opportunistic: use it when offered; required: no MAIL FROM without it. */
  readonly tls: 'off' | 'opportunistic' | 'required';
  /** How the peer's certificate is checked. */
  readonly auth: 'none' | 'pkix' | 'dane';
  /** Names a PKIX certificate must match (the MX host). */
  readonly names: readonly string[];
  /** Usable TLSA records when auth = 'dane'. */
  readonly tlsa: readonly TlsaRecord[];
  /** false for MTA-STS "testing": failures are reported but do not stop delivery. */
  readonly enforce: boolean;
  readonly report: ReportPolicy;
}

/** A policy that cannot be met before connecting (no TLSA under dane-only, MX not in the STS policy). */
export interface PolicyRefusal {
  readonly refused: true;
  /** The message can never be sent this way (REQUIRETLS): bounce instead of deferring. */
  readonly permanent?: boolean;
  readonly resultType: TlsResultType | 'mx-mismatch';
  readonly reason: string;
  readonly report: ReportPolicy;
}

export interface TlsFailure {
  readonly resultType: TlsResultType;
  readonly reason: string;
}
