import { describe, expect, it } from 'vitest';
import { parseImapCommand, rawFromLine, type SearchKey } from '../codec/imap/index.js';
import { parseMessage } from '../codec/mime/index.js';
import { matchMessage, parseHeaderDate, planSearch, SearchContent, type SearchCandidate } from './search.js';

function criteria(text: string): SearchKey[] {
  const r = parseImapCommand(rawFromLine(`t SEARCH ${text}`));
  if (!r.ok || r.command.name !== 'SEARCH') throw new Error(`bad search ${text}`);
  return [...r.command.criteria];
}

const MESSAGE = Buffer.from(
  [
    'From: =?iso-8859-1?q?Ren=E9?= <rene@example.org>',
    'To: Team <team@example.test>',
    'Subject: Quarterly =?utf-8?b?UmVwb3J0?=',
    'Date: Fri, 5 Jan 2024 23:30:00 -0800',
    'X-Ticket: ABC-123',
    'Content-Type: multipart/alternative; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Revenue grew by =E2=82=AC5 million.',
    '--b',
    'Content-Type: text/html',
    '',
    '<p>Revenue</p>',
    '--b--',
    '',
  ].join('\r\n'),
);

const scope = { exists: 10, maxUid: 40, saved: new Set([7]) };
const meta: SearchCandidate = { seq: 3, uid: 7, flags: ['\\Seen', '$Work'], modseq: 12, size: 2000, internalDate: Date.UTC(2024, 0, 6, 8) };

function run(text: string, content = true): boolean | undefined {
  return matchMessage(criteria(text), meta, scope, content ? new SearchContent(parseMessage(MESSAGE)) : null);
}

describe('SEARCH evaluation', () => {
  it('answers flag, number and size keys without content', () => {
    expect(run('SEEN KEYWORD $work UNDELETED', false)).toBe(true);
    expect(run('OR UNSEEN FLAGGED', false)).toBe(false);
    expect(run('3 UID 5:7 LARGER 1999 SMALLER 2001 MODSEQ 12', false)).toBe(true);
    expect(run('UID $', false)).toBe(true);
    expect(run('NEW', false)).toBe(false);
    expect(run('ON 6-Jan-2024 SINCE 6-Jan-2024 BEFORE 7-Jan-2024', false)).toBe(true);
  });

  it('asks for content only when it can change the answer', () => {
    expect(run('UNSEEN SUBJECT report', false)).toBe(false);
    expect(run('SUBJECT report', false)).toBeUndefined();
    expect(run('OR SEEN SUBJECT nothing', false)).toBe(true);
    expect(planSearch(criteria('NOT (BODY x)'))).toEqual({ meta: false, content: true, modseq: false, fields: [], allHeaders: false, body: true });
    expect(planSearch(criteria('LARGER 5 MODSEQ 3'))).toEqual({ meta: true, content: false, modseq: true, fields: [], allHeaders: false, body: false });
    expect(planSearch(criteria('OR SUBJECT x (HEADER List-Id y NOT FROM z) SENTON 1-Jan-2024'))).toEqual({
      meta: false,
      content: true,
      modseq: false,
      fields: ['subject', 'list-id', 'from'],
      allHeaders: false,
      body: false,
    });
    expect(planSearch(criteria('TEXT x'))).toMatchObject({ content: true, fields: [], allHeaders: true, body: true });
  });

  it('matches decoded headers and bodies case-insensitively', () => {
    expect(run('SUBJECT "quarterly REPORT"')).toBe(true);
    expect(run('FROM "rené"')).toBe(true);
    expect(run('TO team@example')).toBe(true);
    expect(run('CC team')).toBe(false);
    expect(run('HEADER X-Ticket abc-1')).toBe(true);
    expect(run('HEADER X-Ticket ""')).toBe(true);
    expect(run('HEADER X-Missing ""')).toBe(false);
    expect(run('BODY "€5 million"')).toBe(true);
    expect(run('BODY quarterly')).toBe(false);
    expect(run('TEXT quarterly')).toBe(true);
    expect(run('NOT BODY revenue')).toBe(false);
  });

  it('finds an address written with comments and spaces inside it', () => {
    const msg = Buffer.from('From: Joe <user (comment)@ (comment) example.org>\r\nTo: undisclosed: ;\r\nSubject: x\r\n\r\nbody\r\n');
    const found = (text: string): boolean | undefined => matchMessage(criteria(text), meta, scope, new SearchContent(parseMessage(msg)));
    expect(found('FROM user@example.org')).toBe(true);
    expect(found('FROM "joe <user@example.org>"')).toBe(true);
    expect(found('FROM "(comment)"')).toBe(true);
    expect(found('FROM other@example.org')).toBe(false);
    expect(found('TO undisclosed')).toBe(true);
  });

  it('compares the Date field by its own calendar day', () => {
    // Written as 5 Jan in its own zone, though it is 6 Jan in UTC.
    expect(run('SENTON 5-Jan-2024')).toBe(true);
    expect(run('SENTSINCE 6-Jan-2024')).toBe(false);
    expect(run('SENTBEFORE 6-Jan-2024')).toBe(true);
    expect(parseHeaderDate('1 Feb 99 10:00 GMT')).toEqual({ year: 1999, month: 2, day: 1 });
    expect(parseHeaderDate('garbage')).toBeNull();
  });
});
