/**
 * TLS-RPT aggregate reports (RFC 8460) of our own sending: for each recipient
 * domain and UTC day, how many sessions established TLS as its policy asked
 * and which failed, how and where. Built from the `tls.*` events outbound
 * delivery records for every session attempt.
 */
import type { EventRepo, StoreEvent } from '../../store/types.js';
import { TLS_EVENT_KINDS } from './report.js';

export interface TlsReportOptions {
  /** UTC day, YYYY-MM-DD. */
  readonly day: string;
  readonly organization: string;
  /** Where the recipient domain can reach us about the report. */
  readonly contact: string;
  /** Our host name: in the report id and the file name. */
  readonly sendingMta: string;
}

interface FailureDetail {
  'result-type': string;
  'sending-mta-ip'?: string;
  'receiving-mx-hostname'?: string;
  'receiving-ip'?: string;
  'failed-session-count': number;
  'failure-reason-code'?: string;
}

interface PolicyBlock {
  policy: { 'policy-type': string; 'policy-string': string[]; 'policy-domain': string; 'mx-host': string[] };
  summary: { 'total-successful-session-count': number; 'total-failure-session-count': number };
  'failure-details': FailureDetail[];
}

export interface TlsReportJson {
  'organization-name': string;
  'date-range': { 'start-datetime': string; 'end-datetime': string };
  'contact-info': string;
  'report-id': string;
  policies: PolicyBlock[];
}

export interface TlsReport {
  readonly domain: string;
  readonly fileName: string;
  readonly report: TlsReportJson;
}

export function dayRange(day: string): { start: number; end: number } {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new RangeError(`not a day: ${JSON.stringify(day)} (expected YYYY-MM-DD)`);
  const start = Date.parse(`${day}T00:00:00Z`);
  return { start, end: start + 86_400_000 };
}

/** RFC 8460 5.3: sender!policy-domain!begin-timestamp!end-timestamp.json */
export function tlsReportFileName(sendingMta: string, domain: string, day: string): string {
  const { start, end } = dayRange(day);
  return `${sendingMta}!${domain}!${start / 1000}!${end / 1000 - 1}.json`;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function buildTlsReports(events: readonly StoreEvent[], o: TlsReportOptions): TlsReport[] {
  const { start, end } = dayRange(o.day);
  const domains = new Map<string, Map<string, { block: PolicyBlock; details: Map<string, FailureDetail>; mx: Set<string> }>>();
  for (const e of events) {
    if (e.at < start || e.at >= end || !(TLS_EVENT_KINDS as readonly string[]).includes(e.kind)) continue;
    const d = e.data;
    const type = str(d.policyType) ?? 'no-policy-found';
    const policyStrings = strings(d.policyStrings);
    const key = `${type}\u0000${policyStrings.join('\n')}`;
    let perDomain = domains.get(e.subject);
    if (!perDomain) domains.set(e.subject, (perDomain = new Map()));
    let p = perDomain.get(key);
    if (!p) {
      const block: PolicyBlock = {
        policy: { 'policy-type': type, 'policy-string': policyStrings, 'policy-domain': e.subject, 'mx-host': strings(d.mxPatterns) },
        summary: { 'total-successful-session-count': 0, 'total-failure-session-count': 0 },
        'failure-details': [],
      };
      perDomain.set(key, (p = { block, details: new Map(), mx: new Set() }));
    }
    if (str(d.mx)) p.mx.add(d.mx as string);
    const warned = d.warned === true;
    if (e.kind === 'tls.success') {
      // A session that passed only because the policy was in testing mode is counted once, as the failure it reported.
      if (!warned) p.block.summary['total-successful-session-count']++;
      continue;
    }
    if (e.kind === 'tls.plaintext' && warned) continue;
    const resultType = e.kind === 'tls.plaintext' ? 'starttls-not-supported' : (str(d.resultType) ?? 'validation-failure');
    p.block.summary['total-failure-session-count']++;
    const reason = str(d.reason)?.slice(0, 120);
    const dk = [resultType, d.sendingIp, d.mx, d.ip, reason].join('\u0000');
    const detail = p.details.get(dk);
    if (detail) detail['failed-session-count']++;
    else {
      p.details.set(dk, {
        'result-type': resultType,
        ...(str(d.sendingIp) ? { 'sending-mta-ip': d.sendingIp as string } : {}),
        ...(str(d.mx) ? { 'receiving-mx-hostname': d.mx as string } : {}),
        ...(str(d.ip) ? { 'receiving-ip': d.ip as string } : {}),
        'failed-session-count': 1,
        ...(reason ? { 'failure-reason-code': reason } : {}),
      });
    }
  }
  const out: TlsReport[] = [];
  for (const [domain, policies] of [...domains].sort(([a], [b]) => a.localeCompare(b))) {
    const blocks = [...policies.values()].map(({ block, details, mx }) => {
      if (block.policy['mx-host'].length === 0) block.policy['mx-host'] = [...mx].sort();
      block['failure-details'] = [...details.values()];
      return block;
    });
    out.push({
      domain,
      fileName: tlsReportFileName(o.sendingMta, domain, o.day),
      report: {
        'organization-name': o.organization,
        'date-range': { 'start-datetime': new Date(start).toISOString().replace('.000', ''), 'end-datetime': new Date(end - 1000).toISOString().replace('.000', '') },
        'contact-info': o.contact,
        'report-id': `${o.day}.${domain}@${o.sendingMta}`,
        policies: blocks,
      },
    });
  }
  return out;
}

/** Reads the day's TLS events (at most `limit` of each kind, through the (kind, at) index) and builds the reports. */
export async function tlsReportsForDay(events: EventRepo, o: TlsReportOptions, limit = 1_000_000): Promise<TlsReport[]> {
  const { start, end } = dayRange(o.day);
  const all: StoreEvent[] = [];
  for (const kind of TLS_EVENT_KINDS) all.push(...(await events.between(kind, start, end, limit)));
  return buildTlsReports(all, o);
}
