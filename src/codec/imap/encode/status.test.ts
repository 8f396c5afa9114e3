import { describe, expect, it } from 'vitest';
import { bad, bye, continuation, formatResponseCode, no, ok, statusResponse, type ResponseCode } from './status.js';

const s = (b: Buffer) => b.toString('utf8');

describe('status responses', () => {
  it('writes tagged and untagged responses', () => {
    expect(s(ok('a1', 'LOGIN completed'))).toBe('a1 OK LOGIN completed\r\n');
    expect(s(no('a2', 'No such mailbox', 'NONEXISTENT'))).toBe('a2 NO [NONEXISTENT] No such mailbox\r\n');
    expect(s(bad(null, 'Command line too long'))).toBe('* BAD Command line too long\r\n');
    expect(s(bye('Autologout; idle for too long'))).toBe('* BYE Autologout; idle for too long\r\n');
    expect(s(statusResponse(null, 'PREAUTH', 'IMAP4rev2 server logged in as Smith'))).toBe('* PREAUTH IMAP4rev2 server logged in as Smith\r\n');
  });

  it('keeps text on one line and never empty', () => {
    expect(s(ok('a', 'one\r\ntwo\0'))).toBe('a OK one two\r\n');
    expect(s(no('a', ''))).toBe('a NO Failed\r\n');
  });

  it('replaces an invalid tag with *', () => {
    expect(s(ok('a b', 'x'))).toBe('* OK x\r\n');
    expect(s(ok('a\r\n', 'x'))).toBe('* OK x\r\n');
    expect(s(ok('', 'x'))).toBe('* OK x\r\n');
  });

  it('writes continuation requests', () => {
    expect(s(continuation('Ready for literal data'))).toBe('+ Ready for literal data\r\n');
    expect(s(continuation())).toBe('+ \r\n');
  });
});

describe('response codes', () => {
  it.each<[ResponseCode, string]>([
    ['ALERT', 'ALERT'],
    ['READ-WRITE', 'READ-WRITE'],
    ['TRYCREATE', 'TRYCREATE'],
    ['OVERQUOTA', 'OVERQUOTA'],
    [{ code: 'CAPABILITY', capabilities: ['IMAP4rev2', 'IMAP4rev1', 'AUTH=PLAIN', 'bad cap'] }, 'CAPABILITY IMAP4rev2 IMAP4rev1 AUTH=PLAIN'],
    [{ code: 'UIDVALIDITY', value: 3857529045 }, 'UIDVALIDITY 3857529045'],
    [{ code: 'UIDNEXT', value: 4392 }, 'UIDNEXT 4392'],
    [{ code: 'HIGHESTMODSEQ', value: 715194045007n }, 'HIGHESTMODSEQ 715194045007'],
    [{ code: 'PERMANENTFLAGS', flags: ['\\Deleted', '\\Seen', '\\*', 'bad flag'] }, 'PERMANENTFLAGS (\\Deleted \\Seen \\*)'],
    [{ code: 'APPENDUID', uidValidity: 38505, uids: [3955] }, 'APPENDUID 38505 3955'],
    [{ code: 'APPENDUID', uidValidity: 38505, uids: [3955, 3956, 3957] }, 'APPENDUID 38505 3955:3957'],
    [{ code: 'COPYUID', uidValidity: 38505, source: [304, 319, 320, 321], destination: [3956, 3957, 3958, 3959] }, 'COPYUID 38505 304,319:321 3956:3959'],
    [{ code: 'MODIFIED', set: [7, 9] }, 'MODIFIED 7,9'],
    [{ code: 'BADURL', url: '/INBOX/;UID=1' }, 'BADURL /INBOX/;UID=1'],
    [{ code: 'BADURL', url: '/a]b\r\n/;UID=1' }, 'BADURL /ab/;UID=1'],
    [{ code: 'BADURL', url: ']' }, 'BADURL'],
    [{ code: 'BADCHARSET', charsets: ['UTF-8', 'US-ASCII'] }, 'BADCHARSET (UTF-8 US-ASCII)'],
  ])('code %# gives %s', (code, text) => {
    expect(formatResponseCode(code)).toBe(text);
  });

  it('puts the code in brackets before the text', () => {
    expect(s(ok('A142', 'SELECT completed', 'READ-WRITE'))).toBe('A142 OK [READ-WRITE] SELECT completed\r\n');
    expect(s(ok(null, 'UIDs valid', { code: 'UIDVALIDITY', value: 3857529045 }))).toBe('* OK [UIDVALIDITY 3857529045] UIDs valid\r\n');
  });
});
