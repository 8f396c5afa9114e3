import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHeaderSection } from '../codec/mime/index.js';
import { messageFacts, messageIds } from './message-facts.js';
import { parseSentDate } from './sent-date.js';

const META = { seq: 4, uid: 40, size: 1234, internalDate: Date.UTC(2024, 0, 1) };
const facts = (header: string) => messageFacts(META, parseHeaderSection(Buffer.from(`${header.trim().split('\n').join('\r\n')}\r\n\r\n`)).fields);

describe('messageFacts', () => {
  it('takes the keys RFC 5256 and RFC 5957 name', () => {
    const f = facts(`
From: "Zoe Zed" <Zoe.Z@example.org>, ann@example.org
To: =?utf-8?q?=C3=89mile?= <emile@example.net>
Cc: Bea <bea@example.net>, undisclosed:;
Subject: Re: [team] =?utf-8?b?Q2Fmw6k=?= (fwd)
Date: Tue, 1 Jul 2003 10:52:37 +0200
Message-ID: <m1@example.org>
References: <r1@example.org> junk <r2@example.org>
In-Reply-To: <other@example.org>
`);
    expect(f).toMatchObject({
      seq: 4, uid: 40, size: 1234, arrival: META.internalDate,
      date: Date.UTC(2003, 6, 1, 8, 52, 37),
      subject: 'CAFE\u0301', isReplyOrForward: true,
      from: 'ZOE.Z', to: 'EMILE', cc: 'BEA',
      displayFrom: 'ZOE ZED', displayTo: 'E\u0301MILE',
      messageId: 'm1@example.org', references: ['r1@example.org', 'r2@example.org'],
    });
  });

  it('falls back: INTERNALDATE, In-Reply-To, the address for a display name, empty keys', () => {
    const f = facts(`
From: bob@example.org
Date: not a date
In-Reply-To: <p1@example.org> <p2@example.org>
`);
    expect(facts('Cc: team: x@example.org;, y@example.org')).toMatchObject({ cc: 'TEAM' });
    expect(f).toMatchObject({ date: META.internalDate, references: ['p1@example.org'], displayFrom: 'BOB@EXAMPLE.ORG', to: '', cc: '', displayTo: '', subject: '', messageId: null });
  });
});

describe('messageIds', () => {
  it('finds msg-ids and skips what is not one', () => {
    expect(messageIds('<a@b> <no-at> <c <d@e> f@g> <h@i>', 10)).toEqual(['a@b', 'd@e', 'h@i']);
    expect(messageIds('<a@b><c@d><e@f>', 2)).toEqual(['c@d', 'e@f']);
    expect(messageIds(null, 5)).toEqual([]);
  });

  it('never throws and stays within the limit', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.integer({ min: 1, max: 5 }), (v, n) => {
        expect(messageIds(v, n).length).toBeLessThanOrEqual(n);
      }),
    );
  });
});

describe('parseSentDate', () => {
  it.each([
    ['Tue, 1 Jul 2003 10:52:37 +0200', Date.UTC(2003, 6, 1, 8, 52, 37)],
    ['1 Jul 03 10:52 -0130', Date.UTC(2003, 6, 1, 12, 22)],
    ['Fri, 21 Nov 1997 09:55:06 PST', Date.UTC(1997, 10, 21, 17, 55, 6)],
    ['21 November 1997 09:55:06 GMT', Date.UTC(1997, 10, 21, 9, 55, 6)],
    ['Mon, 1 Jan 2024 00:00:00', Date.UTC(2024, 0, 1)],
  ])('%s', (text, t) => {
    expect(parseSentDate(text)).toBe(t);
  });

  it.each(['', 'yesterday', '1 Foo 2003 10:00', '32 Jan 2003 10:00', '1 Jan 2003 25:00', '1 Jan 2003'])('refuses %j', (text) => {
    expect(parseSentDate(text)).toBeNull();
  });
});
