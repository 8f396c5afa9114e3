import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatReceived, rfc5322Date, traceToken } from './received.js';

const base = {
  helo: 'client.example.test',
  reverseName: null,
  ip: '192.0.2.7',
  hostname: 'mail.example.test',
  protocol: 'ESMTPSA',
  queueId: '0000000001BCDFGHJK',
  tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  recipients: ['bob@example.test'],
  date: Date.UTC(2024, 2, 5, 9, 7, 3),
};

describe('formatReceived', () => {
  it('writes the full form for one recipient over TLS', () => {
    expect(formatReceived(base)).toBe(
      'Received: from client.example.test (unknown [192.0.2.7])\r\n' +
        '\tby mail.example.test (postern) with ESMTPSA id 0000000001BCDFGHJK\r\n' +
        '\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n' +
        '\tfor <bob@example.test>; Tue, 05 Mar 2024 09:07:03 +0000\r\n',
    );
  });

  it('leaves out the TLS line without TLS and the "for" clause with several recipients', () => {
    expect(formatReceived({ ...base, tls: null, protocol: 'ESMTP', recipients: ['a@x.test', 'b@x.test'] })).toBe(
      'Received: from client.example.test (unknown [192.0.2.7])\r\n' +
        '\tby mail.example.test (postern) with ESMTP id 0000000001BCDFGHJK; Tue, 05 Mar 2024 09:07:03 +0000\r\n',
    );
  });

  it('cannot be broken out of by a hostile HELO or recipient', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (helo, rcpt) => {
        const h = formatReceived({ ...base, helo, recipients: [rcpt] });
        const lines = h.split('\r\n');
        expect(lines).toHaveLength(5);
        expect(lines[4]).toBe('');
        expect(h).not.toMatch(/[\0\n\r](?!\n|\t|$)/);
        expect(lines[0]).toMatch(/^Received: from [^\s()]+ \(unknown \[192\.0\.2\.7\]\)$/);
        expect(lines[3]).toMatch(/^\tfor <[^\s<>;]*>; Tue, 05 Mar 2024 09:07:03 \+0000$/);
      }),
    );
  });

  it('masks characters that would read as a new clause', () => {
    expect(traceToken('x) by evil.test; Mon')).toBe('x__by_evil.test__Mon');
    expect(traceToken('')).toBe('unknown');
    expect(traceToken('[192.0.2.1]')).toBe('[192.0.2.1]');
  });
});

describe('rfc5322Date', () => {
  it('pads and names days and months in UTC', () => {
    expect(rfc5322Date(Date.UTC(1999, 11, 31, 23, 59, 59))).toBe('Fri, 31 Dec 1999 23:59:59 +0000');
    expect(rfc5322Date(Date.UTC(2024, 0, 1, 0, 0, 0))).toBe('Mon, 01 Jan 2024 00:00:00 +0000');
  });

  it('round-trips through Date.parse', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4102444800 }), (s) => {
        expect(Date.parse(rfc5322Date(s * 1000))).toBe(s * 1000);
      }),
    );
  });
});
