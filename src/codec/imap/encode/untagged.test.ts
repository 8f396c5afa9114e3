import { describe, expect, it } from 'vitest';
import { encodeFlags, flagsValue, isValidFlag } from './flags.js';
import {
  capabilityResponse, enabledResponse, esearchResponse, existsResponse, expungeResponse, flagsResponse, idResponse, listResponse,
  lsubResponse, namespaceResponse, quotaResponse, quotaRootResponse, recentResponse, searchResponse, statusDataResponse, vanishedResponse,
} from './untagged.js';

const s = (b: Buffer) => b.toString('utf8');

describe('flags', () => {
  it('writes valid flags and drops ones that would break framing', () => {
    expect(encodeFlags(['\\Answered', '$Forwarded', 'has space', '\\', 'a)b', 'x"'])).toBe('(\\Answered $Forwarded)');
    expect(isValidFlag('\\*')).toBe(false);
    expect(isValidFlag('\\*', true)).toBe(true);
    expect(flagsValue(['\\Seen', 'bad flag'])).toEqual([{ kind: 'atom', text: '\\Seen' }]);
  });
});

describe('untagged data responses', () => {
  it('simple counters and lists', () => {
    expect(s(capabilityResponse(['IMAP4rev2', 'STARTTLS', 'AUTH=PLAIN', 'LOGINDISABLED']))).toBe('* CAPABILITY IMAP4rev2 STARTTLS AUTH=PLAIN LOGINDISABLED\r\n');
    expect(s(enabledResponse(['CONDSTORE']))).toBe('* ENABLED CONDSTORE\r\n');
    expect(s(enabledResponse([]))).toBe('* ENABLED\r\n');
    expect(s(existsResponse(172))).toBe('* 172 EXISTS\r\n');
    expect(s(recentResponse(1))).toBe('* 1 RECENT\r\n');
    expect(s(expungeResponse(3))).toBe('* 3 EXPUNGE\r\n');
    expect(s(flagsResponse(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft']))).toBe('* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n');
  });

  it('ID', () => {
    expect(s(idResponse([['name', 'postern'], ['version', null]]))).toBe('* ID ("name" "postern" "version" NIL)\r\n');
    expect(s(idResponse(null))).toBe('* ID NIL\r\n');
  });

  it('NAMESPACE', () => {
    expect(s(namespaceResponse([{ prefix: '', delimiter: '/' }], null, [{ prefix: 'Shared/', delimiter: '/' }]))).toBe('* NAMESPACE (("" "/")) NIL (("Shared/" "/"))\r\n');
  });

  it('LIST and LSUB, with modified UTF-7 or UTF-8 names', () => {
    expect(s(listResponse({ attributes: ['\\HasNoChildren', '\\Sent'], delimiter: '/', name: 'Sent' }))).toBe('* LIST (\\HasNoChildren \\Sent) "/" "Sent"\r\n');
    expect(s(listResponse({ attributes: [], delimiter: '/', name: '日本語' }))).toBe('* LIST () "/" "&ZeVnLIqe-"\r\n');
    expect(s(listResponse({ attributes: [], delimiter: '/', name: '日本語' }, { utf8: true }))).toBe('* LIST () "/" "日本語"\r\n');
    expect(s(listResponse({ attributes: ['\\Noselect'], delimiter: null, name: '' }))).toBe('* LIST (\\Noselect) NIL ""\r\n');
    expect(s(listResponse({ attributes: [], delimiter: '\\', name: 'a\\b' }))).toBe('* LIST () "\\\\" "a\\\\b"\r\n');
    expect(s(listResponse({ attributes: ['\\Subscribed'], delimiter: '/', name: 'Foo', childInfo: ['SUBSCRIBED'] }))).toBe(
      '* LIST (\\Subscribed) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))\r\n',
    );
    expect(s(listResponse({ attributes: [], delimiter: '/', name: 'New', oldName: 'Old' }))).toBe('* LIST () "/" "New" ("OLDNAME" ("Old"))\r\n');
    expect(s(lsubResponse({ attributes: [], delimiter: '.', name: 'INBOX' }))).toBe('* LSUB () "." "INBOX"\r\n');
  });

  it('STATUS', () => {
    expect(s(statusDataResponse('blurdybloop', [['MESSAGES', 231], ['UIDNEXT', 44292], ['HIGHESTMODSEQ', 7011231777n]]))).toBe(
      '* STATUS "blurdybloop" (MESSAGES 231 UIDNEXT 44292 HIGHESTMODSEQ 7011231777)\r\n',
    );
  });

  it('SEARCH and ESEARCH', () => {
    expect(s(searchResponse([2, 84, 882]))).toBe('* SEARCH 2 84 882\r\n');
    expect(s(searchResponse([]))).toBe('* SEARCH\r\n');
    expect(s(searchResponse([2, 5], 917162500n))).toBe('* SEARCH 2 5 (MODSEQ 917162500)\r\n');
    expect(s(esearchResponse({ tag: 'A282', uid: false, min: 2, count: 3 }))).toBe('* ESEARCH (TAG "A282") MIN 2 COUNT 3\r\n');
    expect(s(esearchResponse({ tag: 'A283', uid: true, all: [2, 10, 11, 12, 13, 14, 15, 44] }))).toBe('* ESEARCH (TAG "A283") UID ALL 2,10:15,44\r\n');
    expect(s(esearchResponse({ tag: 'A284', uid: false, all: [], count: 0 }))).toBe('* ESEARCH (TAG "A284") COUNT 0\r\n');
  });

  it('VANISHED', () => {
    expect(s(vanishedResponse([41, 43, 44, 45, 116], true))).toBe('* VANISHED (EARLIER) 41,43:45,116\r\n');
    expect(s(vanishedResponse([405], false))).toBe('* VANISHED 405\r\n');
    expect(vanishedResponse([], false).length).toBe(0);
  });

  it('QUOTA and QUOTAROOT', () => {
    expect(s(quotaResponse('', [{ name: 'STORAGE', usage: 10, limit: 512 }]))).toBe('* QUOTA "" (STORAGE 10 512)\r\n');
    expect(s(quotaRootResponse('INBOX', ['']))).toBe('* QUOTAROOT "INBOX" ""\r\n');
    expect(s(quotaRootResponse('comp.mail.mime', []))).toBe('* QUOTAROOT "comp.mail.mime"\r\n');
  });
});
