import { describe, expect, it } from 'vitest';
import type { StoreEvent } from '../../store/types.js';
import { buildTlsReports, tlsReportFileName } from './tlsrpt.js';

const DAY = '2025-01-02';
const at = Date.parse(`${DAY}T10:00:00Z`);
let id = 0;
const ev = (kind: string, subject: string, data: Record<string, unknown>, when = at): StoreEvent => ({ id: ++id, at: when, kind, subject, data });
const sts = { policyType: 'sts', policyStrings: ['version: STSv1', 'mode: enforce', 'mx: mx.far.test', 'max_age: 86400'], mxPatterns: ['mx.far.test'] };
const opts = { day: DAY, organization: 'Ours', contact: 'postmaster@ours.test', sendingMta: 'mail.ours.test' };

describe('buildTlsReports', () => {
  const events = [
    ev('tls.success', 'far.test', { ...sts, mx: 'mx.far.test', ip: '192.0.2.1', sendingIp: '198.51.100.1' }),
    ev('tls.success', 'far.test', { ...sts, mx: 'mx.far.test', ip: '192.0.2.1', sendingIp: '198.51.100.1' }),
    ev('tls.failure', 'far.test', { ...sts, mx: 'mx.far.test', ip: '192.0.2.1', sendingIp: '198.51.100.1', resultType: 'certificate-expired', reason: 'CERT_HAS_EXPIRED', enforced: true }),
    ev('tls.failure', 'far.test', { ...sts, mx: 'mx.far.test', ip: '192.0.2.1', sendingIp: '198.51.100.1', resultType: 'certificate-expired', reason: 'CERT_HAS_EXPIRED', enforced: true }),
    ev('tls.plaintext', 'plain.test', { policyType: 'no-policy-found', policyStrings: [], mx: 'mx.plain.test', ip: '192.0.2.9' }),
    ev('tls.failure', 'testing.test', { policyType: 'sts', policyStrings: ['mode: testing'], mx: 'mx.testing.test', resultType: 'starttls-not-supported', enforced: false }),
    ev('tls.plaintext', 'testing.test', { policyType: 'sts', policyStrings: ['mode: testing'], mx: 'mx.testing.test', warned: true }),
    ev('tls.success', 'far.test', { ...sts, mx: 'mx.far.test' }, at - 86_400_000), // the day before
    ev('auth.failed', 'far.test', {}),
  ];
  const reports = buildTlsReports(events, opts);

  it('makes one report per recipient domain for the day, in RFC 8460 form', () => {
    expect(reports.map((r) => r.domain)).toEqual(['far.test', 'plain.test', 'testing.test']);
    const far = reports[0]!;
    expect(far.fileName).toBe(`mail.ours.test!far.test!${Date.parse(`${DAY}T00:00:00Z`) / 1000}!${Date.parse(`${DAY}T23:59:59Z`) / 1000}.json`);
    expect(far.report).toMatchObject({
      'organization-name': 'Ours',
      'date-range': { 'start-datetime': '2025-01-02T00:00:00Z', 'end-datetime': '2025-01-02T23:59:59Z' },
      'contact-info': 'postmaster@ours.test',
    });
    expect(far.report.policies).toEqual([
      {
        policy: { 'policy-type': 'sts', 'policy-string': sts.policyStrings, 'policy-domain': 'far.test', 'mx-host': ['mx.far.test'] },
        summary: { 'total-successful-session-count': 2, 'total-failure-session-count': 2 },
        'failure-details': [
          {
            'result-type': 'certificate-expired',
            'sending-mta-ip': '198.51.100.1',
            'receiving-mx-hostname': 'mx.far.test',
            'receiving-ip': '192.0.2.1',
            'failed-session-count': 2,
            'failure-reason-code': 'CERT_HAS_EXPIRED',
          },
        ],
      },
    ]);
  });

  it('counts a clear-text session as starttls-not-supported, and a reported session once', () => {
    expect(reports[1]!.report.policies[0]).toMatchObject({
      policy: { 'policy-type': 'no-policy-found', 'mx-host': ['mx.plain.test'] },
      summary: { 'total-successful-session-count': 0, 'total-failure-session-count': 1 },
      'failure-details': [{ 'result-type': 'starttls-not-supported', 'failed-session-count': 1 }],
    });
    expect(reports[2]!.report.policies[0]!.summary).toEqual({ 'total-successful-session-count': 0, 'total-failure-session-count': 1 });
  });

  it('refuses a malformed day', () => {
    expect(() => tlsReportFileName('m', 'd', '2025-1-2')).toThrow(/YYYY-MM-DD/);
    expect(() => buildTlsReports([], { ...opts, day: 'yesterday' })).toThrow();
  });
});
