/**
 * What outbound delivery counts, and how TLS outcomes are recorded: one
 * store event per session attempt (`tls.success`, `tls.plaintext`,
 * `tls.failure`), which the TLS-RPT report and the confidentiality figures
 * are computed from, plus in-process counters.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../metrics/logger.js';
import type { EventRepo } from '../../store/types.js';
import type { TlsReporter, TlsSessionReport } from './connect.js';

export class OutboundStats {
  delivered = 0;
  deferred = 0;
  failed = 0;
  bounces = 0;
  /** Destination attempts that DNS could not route (temporary: deferred and retried). */
  dnsFailures = 0;
  sessions = 0;
  tlsSessions = 0;
  plaintextSessions = 0;
  /** Failures that stopped delivery (the message waited). */
  tlsFailures = 0;
  /** Failures that were reported but did not stop delivery (MTA-STS testing, opportunistic fallback). */
  tlsWarnings = 0;

  snapshot(): Record<string, number> {
    return Object.fromEntries(Object.entries(this).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
  }
}

export const TLS_EVENT_KINDS = ['tls.success', 'tls.plaintext', 'tls.failure'] as const;

export function eventTlsReporter(events: EventRepo, stats: OutboundStats, log: Logger, clock: Clock): TlsReporter {
  return async (r: TlsSessionReport) => {
    const data: Record<string, unknown> = {
      mx: r.mxHost,
      ip: r.address,
      sendingIp: r.localAddress,
      policyType: r.policy.type,
      policyStrings: r.policy.strings,
      ...(r.policy.mxPatterns ? { mxPatterns: r.policy.mxPatterns } : {}),
      ...(r.warned ? { warned: true } : {}),
    };
    if (r.result === 'failure') {
      data.resultType = r.failure?.resultType ?? 'validation-failure';
      data.reason = r.failure?.reason ?? '';
      data.enforced = r.enforced;
      if (r.enforced) stats.tlsFailures++;
      else stats.tlsWarnings++;
      const line = { domain: r.domain, mx: r.mxHost, ip: r.address, resultType: data.resultType, reason: data.reason, enforced: r.enforced };
      if (r.enforced) log.warn(line, 'TLS required and not achieved: delivery deferred');
      else log.info(line, 'TLS problem reported, delivery continues');
    } else {
      stats.sessions++;
      if (r.result === 'success') {
        stats.tlsSessions++;
        data.protocol = r.tls?.protocol ?? null;
        data.cipher = r.tls?.cipher ?? null;
        data.verified = r.tls?.verified ?? 'none';
      } else {
        stats.plaintextSessions++;
        log.info({ domain: r.domain, mx: r.mxHost, ip: r.address }, 'session without TLS (peer offered no STARTTLS)');
      }
    }
    try {
      await events.record(`tls.${r.result}`, r.domain, data, clock.now());
    } catch (e) {
      // A report that cannot be stored must not look like a connection failure (or leak the session it describes).
      log.error({ err: e, domain: r.domain, result: r.result }, 'TLS outcome could not be recorded');
    }
  };
}
