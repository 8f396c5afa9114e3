/**
 * Resolves the TLS policy for a destination in two steps: per domain (the
 * configured level, plus the MTA-STS policy when the level asks for it) and
 * per MX host (DANE TLSA records, MX pattern checks). The result is plain
 * data the SMTP client enforces before it sends MAIL FROM.
 */
import type { DnsResolver } from '../../net/dns/types.js';
import { tlsaName, tlsaText, tlsaUsable } from './dane.js';
import { mxAllowed } from './mta-sts/parse.js';
import type { StsLookup, StsResolver } from './mta-sts/resolver.js';
import type { TlsPolicyMap } from './policy-map.js';
import type { HostPolicy, PolicyRefusal, ReportPolicy, TlsFailure, TlsLevel } from './types.js';

export interface DomainPolicy {
  /** The recipient domain, or the relay host. */
  readonly domain: string;
  readonly level: TlsLevel;
  /** Set for level mta-sts. */
  readonly sts: StsLookup | null;
}

export interface MxHost {
  readonly host: string;
  /** The MX answer that named this host was DNSSEC-authenticated. */
  readonly authenticated: boolean;
}

/** A host policy plus a failure to report without stopping delivery (MTA-STS testing, failed policy fetch). */
export type HostPolicyResult = (HostPolicy & { readonly warning?: TlsFailure }) | PolicyRefusal;

const noPolicy = (domain: string): ReportPolicy => ({ type: 'no-policy-found', strings: [], domain });

function base(level: TlsLevel, report: ReportPolicy, over: Partial<HostPolicy> = {}): HostPolicy {
  return { level, tls: 'opportunistic', auth: 'none', names: [], tlsa: [], enforce: true, report, ...over };
}

export class TlsPolicyResolver {
  constructor(
    private readonly map: TlsPolicyMap,
    private readonly resolver: DnsResolver,
    private readonly sts: StsResolver | null,
  ) {}

  /** The configured level of a destination domain (no lookups). */
  levelFor(domain: string): TlsLevel {
    return this.map.lookup(domain).level;
  }

  /** `level` overrides the map (a relay has its own level). */
  async forDomain(domain: string, level?: TlsLevel): Promise<DomainPolicy> {
    const l = level ?? this.map.lookup(domain).level;
    const sts = l === 'mta-sts' && this.sts ? await this.sts.lookup(domain) : null;
    return { domain, level: l, sts };
  }

  async forHost(dp: DomainPolicy, mx: MxHost, port: number): Promise<HostPolicyResult> {
    const { domain, level } = dp;
    const host = mx.host;
    switch (level) {
      case 'none':
        return base(level, noPolicy(domain), { tls: 'off' });
      case 'may':
        return base(level, noPolicy(domain));
      case 'encrypt':
        return base(level, noPolicy(domain), { tls: 'required' });
      case 'verify':
        return base(level, noPolicy(domain), { tls: 'required', auth: 'pkix', names: [host] });
      case 'mta-sts':
        return stsHostPolicy(dp, host);
      case 'dane':
      case 'dane-only':
        return this.daneHostPolicy(dp, mx, port);
    }
  }

  private async daneHostPolicy(dp: DomainPolicy, mx: MxHost, port: number): Promise<HostPolicyResult> {
    const only = dp.level === 'dane-only';
    const fallback = (why: string): HostPolicyResult =>
      only ? { refused: true, resultType: 'dane-required', reason: why, report: noPolicy(dp.domain) } : base('may', noPolicy(dp.domain));
    if (!mx.authenticated) return fallback(`MX host ${mx.host} was not obtained with DNSSEC`);
    const ans = await this.resolver.tlsa(tlsaName(mx.host, port));
    if (ans.status === 'temperror') {
      // A secure zone whose TLSA lookup fails may be under attack: never fall back (RFC 7672 2.1.1).
      return { refused: true, resultType: 'dnssec-invalid', reason: `TLSA lookup failed: ${ans.reason}`, report: noPolicy(dp.domain) };
    }
    if (ans.status !== 'ok' || !ans.authenticated) return fallback(`no DNSSEC-authenticated TLSA record for ${mx.host}`);
    const report: ReportPolicy = { type: 'tlsa', strings: ans.records.map(tlsaText), domain: dp.domain };
    const usable = ans.records.filter(tlsaUsable);
    // TLSA present but none usable: TLS is still mandatory, unauthenticated (RFC 7672 2.2).
    if (usable.length === 0) return base(dp.level, report, { tls: 'required' });
    return base(dp.level, report, { tls: 'required', auth: 'dane', tlsa: usable, names: [mx.host] });
  }
}

function stsHostPolicy(dp: DomainPolicy, host: string): HostPolicyResult {
  const sts = dp.sts;
  if (!sts || sts.kind === 'none') return base('may', noPolicy(dp.domain));
  if (sts.kind === 'error') {
    const report: ReportPolicy = { type: 'sts', strings: [], domain: dp.domain };
    return { ...base('may', report), enforce: false, warning: { resultType: sts.resultType, reason: sts.reason } };
  }
  const p = sts.policy;
  if (p.mode === 'none') return base('may', noPolicy(dp.domain));
  const report: ReportPolicy = { type: 'sts', strings: p.lines, domain: dp.domain, mxPatterns: p.mx };
  const allowed = mxAllowed(p, host);
  if (p.mode === 'enforce') {
    if (!allowed) return { refused: true, resultType: 'mx-mismatch', reason: `MX ${host} is not in the MTA-STS policy of ${dp.domain}`, report };
    return base('mta-sts', report, { tls: 'required', auth: 'pkix', names: [host] });
  }
  // testing: check and report everything, hold nothing back.
  const warning: TlsFailure | undefined = allowed ? undefined : { resultType: 'validation-failure', reason: `MX ${host} is not in the MTA-STS policy` };
  return { ...base('mta-sts', report, { auth: 'pkix', names: [host], enforce: false }), ...(warning ? { warning } : {}) };
}

/**
 * REQUIRETLS (RFC 8689 4.2.1): the message may only travel over TLS whose
 * certificate was verified (PKIX or DANE), to an MX that was obtained securely
 * (DNSSEC or an enforced MTA-STS policy) or a configured relay. Returns the
 * raised policy, or a permanent refusal.
 */
export function raiseForRequireTls(p: HostPolicyResult, host: string, routeSecure: boolean): HostPolicyResult {
  if ('refused' in p) return p;
  const stsEnforced = p.report.type === 'sts' && p.enforce && p.tls === 'required';
  if (!routeSecure && !stsEnforced) {
    return { refused: true, permanent: true, resultType: 'validation-failure', reason: `REQUIRETLS: the route to ${host} is not DNSSEC- or MTA-STS-protected`, report: p.report };
  }
  // A testing-mode warning becomes a hard requirement: drop it, enforce everything.
  const { warning: _warning, ...policy } = p;
  const auth = policy.auth === 'none' ? 'pkix' : policy.auth;
  return { ...policy, tls: 'required', auth, names: policy.names.length ? policy.names : [host], enforce: true };
}
