import { describe, expect, it } from 'vitest';
import { buildDsn, originalHeader, rfc5322Date } from './dsn.js';

const original = Buffer.from('From: a@ours.test\r\nTo: b@far.test\r\nSubject: hello\r\nMessage-ID: <m1@ours.test>\r\n\r\nSECRET BODY\r\n');

describe('buildDsn', () => {
  const dsn = buildDsn({
    reportingMta: 'mail.ours.test',
    queueId: 'Q123',
    sender: 'a@ours.test',
    arrivalAt: Date.UTC(2025, 0, 2, 3, 4, 5),
    originalMessage: original,
    now: Date.UTC(2025, 0, 2, 4, 0, 0),
    failed: [
      { address: 'b@far.test', status: '5.1.1', diagnostic: '550 5.1.1 No such user', remoteMta: 'mx.far.test', lastAttemptAt: Date.UTC(2025, 0, 2, 4, 0, 0) },
      { address: 'c@far.test', status: '5.4.7', diagnostic: 'delivery time expired', remoteMta: null, lastAttemptAt: Date.UTC(2025, 0, 2, 4, 0, 0) },
    ],
  }).toString('utf8');

  it('is a multipart/report of type delivery-status, addressed to the sender', () => {
    expect(dsn).toMatch(/^From: "Mail Delivery System" <MAILER-DAEMON@mail\.ours\.test>\r\nTo: <a@ours\.test>\r\n/);
    expect(dsn).toMatch(/Content-Type: multipart\/report; report-type=delivery-status; boundary="(=_postern_[0-9a-f]+)"/);
    expect(dsn).toContain('Auto-Submitted: auto-replied');
    const boundary = /boundary="([^"]+)"/.exec(dsn)![1]!;
    expect(dsn.split(`--${boundary}\r\n`)).toHaveLength(4);
    expect(dsn.endsWith(`--${boundary}--\r\n`)).toBe(true);
  });

  it('lists each failed recipient with its status and diagnostic', () => {
    expect(dsn).toContain('Reporting-MTA: dns; mail.ours.test\r\n');
    expect(dsn).toContain('Arrival-Date: Thu, 2 Jan 2025 03:04:05 +0000');
    expect(dsn).toMatch(/Final-Recipient: rfc822; b@far\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.far\.test\r\nDiagnostic-Code: smtp; 550 5\.1\.1 No such user/);
    expect(dsn).toMatch(/Final-Recipient: rfc822; c@far\.test\r\nAction: failed\r\nStatus: 5\.4\.7\r\nDiagnostic-Code: x-postern; delivery time expired/);
  });

  it('returns the original header section and never the body', () => {
    expect(dsn).toContain('Content-Type: text/rfc822-headers');
    expect(dsn).toContain('Subject: hello\r\nMessage-ID: <m1@ours.test>\r\n');
    expect(dsn).not.toContain('SECRET BODY');
  });
});

describe('originalHeader', () => {
  it('cuts at the first blank line, with either line end', () => {
    expect(originalHeader(Buffer.from('A: 1\nB: 2\n\nbody\r\n\r\nmore')).toString()).toBe('A: 1\r\nB: 2\r\n');
    expect(originalHeader(Buffer.from('A: 1\r\n\r\nbody\n\nx')).toString()).toBe('A: 1\r\n');
    expect(originalHeader(Buffer.from('A: 1')).toString()).toBe('A: 1\r\n');
  });
  it('formats dates in RFC 5322 form', () => {
    expect(rfc5322Date(0)).toBe('Thu, 1 Jan 1970 00:00:00 +0000');
  });
});
