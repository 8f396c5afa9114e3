/**
 * Opens a session to a destination: route (MX or relay), then for each host
 * its TLS policy and addresses, trying hosts in order until one session
 * passes its policy. Every TLS outcome — success, clear text, failure — is
 * handed to the reporter, which records it for TLS-RPT and the counters.
 */
import type { TlsLevel, TlsPolicyResolver, HostPolicyResult, ReportPolicy, TlsFailure } from '../../policy/tls/index.js';
import { raiseForRequireTls, raiseToFloor, type TlsFloor } from '../../policy/tls/index.js';
import type { DnsResolver } from '../../net/dns/types.js';
import { hostAddresses, resolveRoute, type RouteHost } from './route.js';
import { ConnectError, HandshakeError, openSession, TlsPolicyError, type Opened, type SessionOptions, type TlsInfo } from './smtp/session.js';
import { replyText } from './smtp/reply.js';

export interface RelayOptions {
  readonly host: string;
  readonly port: number;
  readonly level: TlsLevel;
  /** Recipient domains (and ".parent" subdomain keys) sent to the relay; empty: all mail. */
  readonly domains: readonly string[];
  readonly clientCert?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly extraCa?: readonly string[];
}

export interface Destination {
  /** Sessions are shared by jobs with the same key. */
  readonly key: string;
  readonly domain: string;
  readonly relay: RelayOptions | null;
  readonly requireTls: boolean;
  /** The least every session for this destination must achieve, whatever the relay's or MX's own level. */
  readonly tlsFloor?: TlsFloor;
}

export interface TlsSessionReport {
  readonly domain: string;
  readonly mxHost: string;
  readonly address: string | null;
  readonly localAddress: string | null;
  readonly result: 'success' | 'plaintext' | 'failure';
  /** For failures: whether it stopped delivery (false for MTA-STS testing and opportunistic fallbacks). */
  readonly enforced: boolean;
  readonly policy: ReportPolicy;
  readonly failure?: TlsFailure;
  readonly tls?: TlsInfo | null;
  /** A success or clear-text session that already reported a failure (counted once, as that failure). */
  readonly warned?: boolean;
}

export type TlsReporter = (r: TlsSessionReport) => Promise<void>;

export type Connected = { readonly ok: true; readonly opened: Opened; readonly host: string; readonly address: string; readonly port: number; readonly connMs: number };
export type NotConnected = {
  readonly ok: false;
  readonly permanent: boolean;
  readonly status: string;
  readonly reason: string;
  readonly connMs: number;
  /** Set when DNS could not answer (a temporary failure): the route or every host's addresses. */
  readonly dnsFailure?: boolean;
};

export interface ConnectDeps {
  readonly resolver: DnsResolver;
  readonly policies: TlsPolicyResolver;
  readonly report: TlsReporter;
  readonly session: Omit<SessionOptions, 'needRequireTls' | 'clientCert' | 'extraCa'>;
  readonly port: number;
  readonly extraCa?: readonly string[];
  readonly now: () => number;
}

export function relayFor(domain: string, relay: RelayOptions | null | undefined): RelayOptions | null {
  if (!relay) return null;
  if (relay.domains.length === 0) return relay;
  const d = domain.toLowerCase();
  return relay.domains.some((k) => (k.startsWith('.') ? d.endsWith(k.toLowerCase()) : d === k.toLowerCase())) ? relay : null;
}

export async function connectDestination(dest: Destination, deps: ConnectDeps): Promise<Connected | NotConnected> {
  const start = deps.now();
  const fail = (permanent: boolean, status: string, reason: string, dnsFailure = false): NotConnected => ({
    ok: false,
    permanent,
    status,
    reason,
    connMs: deps.now() - start,
    ...(dnsFailure ? { dnsFailure } : {}),
  });
  const relay = dest.relay;
  let hosts: readonly RouteHost[];
  if (relay) {
    hosts = [{ host: relay.host, preference: 0, authenticated: true }];
  } else {
    const route = await resolveRoute(dest.domain, deps.resolver);
    if (!route.ok) return fail(route.permanent, route.status, route.reason, !route.permanent);
    hosts = route.hosts;
  }
  const port = relay ? relay.port : deps.port;
  const dp = await deps.policies.forDomain(relay ? relay.host : dest.domain, relay?.level);
  const errors: { permanent: boolean; status: string; reason: string; dns?: boolean }[] = [];
  const opts: SessionOptions = {
    ...deps.session,
    needRequireTls: dest.requireTls,
    ...(relay?.clientCert ? { clientCert: relay.clientCert } : {}),
    extraCa: [...(deps.extraCa ?? []), ...(relay?.extraCa ?? [])],
  };
  for (const h of hosts) {
    let hp: HostPolicyResult = await deps.policies.forHost(dp, { host: h.host, authenticated: h.authenticated }, port);
    hp = raiseToFloor(hp, dest.tlsFloor ?? 'none', h.host);
    if (dest.requireTls) hp = raiseForRequireTls(hp, h.host, h.authenticated);
    const base = { domain: dp.domain, mxHost: h.host, localAddress: null };
    if ('refused' in hp) {
      const resultType = hp.resultType === 'mx-mismatch' ? 'validation-failure' : hp.resultType;
      await deps.report({ ...base, address: null, result: 'failure', enforced: true, policy: hp.report, failure: { resultType, reason: hp.reason } });
      errors.push({ permanent: hp.permanent === true, status: hp.permanent ? '5.7.30' : '4.7.5', reason: `${h.host}: ${hp.reason}` });
      continue;
    }
    let warned = false;
    if (hp.warning) {
      await deps.report({ ...base, address: null, result: 'failure', enforced: false, policy: hp.report, failure: hp.warning });
      warned = true;
    }
    const addrs = await hostAddresses(h.host, deps.resolver);
    if (!addrs.ok) {
      errors.push({ permanent: false, status: '4.4.3', reason: addrs.reason, dns: !addrs.permanent });
      continue;
    }
    for (const address of addrs.addresses) {
      const target = { host: h.host, address, port };
      const at = { ...base, address };
      try {
        let opened: Opened;
        try {
          opened = await openSession(target, hp, opts);
        } catch (e) {
          if (!(e instanceof HandshakeError)) throw e;
          // Opportunistic TLS whose handshake failed: report it, then deliver in clear as the policy allows.
          await deps.report({ ...at, result: 'failure', enforced: false, policy: hp.report, failure: { resultType: 'validation-failure', reason: e.message } });
          warned = true;
          opened = await openSession(target, hp, opts, false);
        }
        const localAddress = opened.session.localAddress;
        for (const w of opened.warnings) await deps.report({ ...at, localAddress, result: 'failure', enforced: false, policy: hp.report, failure: w, tls: opened.tls });
        warned ||= opened.warnings.length > 0;
        await deps.report({ ...at, localAddress, result: opened.tls ? 'success' : 'plaintext', enforced: false, policy: hp.report, tls: opened.tls, warned });
        return { ok: true, opened, host: h.host, address, port, connMs: deps.now() - start };
      } catch (e) {
        if (e instanceof TlsPolicyError) {
          await deps.report({ ...at, result: 'failure', enforced: true, policy: hp.report, failure: e.failure });
          errors.push({ permanent: e.permanent, status: e.permanent ? '5.7.30' : '4.7.5', reason: `${h.host}[${address}]: TLS required: ${e.message}` });
        } else if (e instanceof ConnectError && e.reply) {
          errors.push({ permanent: false, status: e.reply.enhanced ?? '4.4.2', reason: `${h.host}[${address}]: ${replyText(e.reply)}` });
        } else {
          errors.push({ permanent: false, status: '4.4.1', reason: `${h.host}[${address}]: ${e instanceof Error ? e.message : String(e)}` });
        }
      }
    }
  }
  if (errors.length === 0) return fail(false, '4.4.1', `no host to try for ${dest.domain}`);
  // Permanent only when every host refused permanently; one temporary problem means "try later".
  const permanent = errors.every((e) => e.permanent);
  const last = errors[errors.length - 1]!;
  const status = permanent ? last.status : (errors.find((e) => e.status.startsWith('4.7')) ?? last).status.replace(/^5/, '4');
  return fail(permanent, status, errors.map((e) => e.reason).join('; '), errors.every((e) => e.dns === true));
}
