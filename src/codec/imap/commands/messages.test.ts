import { describe, expect, it } from 'vitest';
import { parseImapCommand } from '../parse.js';
import { rawFromLine } from '../raw.js';
import { readAll } from '../read-all.js';

const parse = (line: string) => parseImapCommand(rawFromLine(line));
const parseStream = (data: string) => {
  const ev = readAll([Buffer.from(data, 'latin1')]).find((e) => e.type === 'command');
  if (ev?.type !== 'command') throw new Error('no command');
  return parseImapCommand(ev.command);
};
const seq = (from: number | '*', to: number | '*' = from) => ({ from, to });

describe('APPEND', () => {
  const msg = 'Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nFrom: Fred Foobar <foobar@Blurdybloop.example>\r\nSubject: afternoon meeting\r\n\r\nHello Joe\r\n';

  it('reads flags, date-time and the message literal (RFC 9051 example)', () => {
    const r = parseStream(`A003 APPEND saved-messages (\\Seen) {${msg.length}}\r\n${msg}\r\n`);
    expect(r).toEqual({
      ok: true,
      command: { tag: 'A003', name: 'APPEND', mailbox: 'saved-messages', messages: [{ flags: ['\\Seen'], date: null, data: Buffer.from(msg), binary: false }] },
    });
  });

  it('reads a date-time, literal8 with NUL, and several messages (MULTIAPPEND)', () => {
    const r = parseStream('a APPEND Drafts "05-Mar-2024 10:00:00 +0100" ~{3}\r\na\x00b (\\Draft $label) {1+}\r\nx {0}\r\n\r\n');
    expect(r).toMatchObject({ ok: true, command: { mailbox: 'Drafts' } });
    if (!r.ok || r.command.name !== 'APPEND') throw new Error('not APPEND');
    expect(r.command.messages.map((m) => [m.flags, m.date?.date.toISOString() ?? null, m.date?.zoneMinutes ?? null, m.data.toString('latin1'), m.binary])).toEqual([
      [[], '2024-03-05T09:00:00.000Z', 60, 'a\x00b', true],
      [['\\Draft', '$label'], null, null, 'x', false],
      [[], null, null, '', false],
    ]);
  });

  it('reads the UTF8 data item (RFC 6855 4): a literal8 in parentheses, bytes as sent', () => {
    const m = Buffer.from('Subject: h\u00e9llo\r\nFrom: j\u00f6s\u00e9@example.test\r\n\r\nx\r\n', 'utf8');
    const r = readAll([Buffer.from(`a APPEND INBOX (\\Seen) UTF8 (~{${m.length}}\r\n`, 'latin1'), m, Buffer.from(')\r\n', 'latin1')]).find((e) => e.type === 'command');
    if (r?.type !== 'command') throw new Error('no command');
    const p = parseImapCommand(r.command);
    if (!p.ok || p.command.name !== 'APPEND') throw new Error(JSON.stringify(p));
    expect(p.command.messages).toEqual([{ flags: ['\\Seen'], date: null, data: m, binary: true }]);
  });

  it.each([
    ['a APPEND INBOX UTF8 ({3}\r\nabc)\r\n', 'UTF8 data must be a literal8'],
    ['a APPEND INBOX UTF8 (~{3}\r\nabc\r\n', 'Expected'],
    ['a APPEND INBOX UTF8 ~{3}\r\nabc\r\n', 'Expected'],
  ])('refuses a malformed UTF8 data item: %j', (data, message) => {
    const r = parseStream(data);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain(message);
  });

  it.each([
    ['a APPEND INBOX', 'Expected space'],
    ['a APPEND INBOX (\\Seen)', 'Expected space'],
    ['a APPEND INBOX "x"', 'Invalid date-time "x"'],
    ['a APPEND INBOX {5}', 'Literal must end the line'],
    ['a APPEND INBOX hello', 'Expected message literal'],
  ])('rejects %j', (line, message) => {
    expect(parse(line)).toEqual({ ok: false, error: { tag: 'a', code: 'syntax', message } });
  });

  it('reads CATENATE parts (RFC 4469): TEXT literals, literal8 and URLs, beside a plain message', () => {
    const r = parseStream('a APPEND Sent (\\Seen) CATENATE (URL "/INBOX;UIDVALIDITY=9/;UID=3/;SECTION=HEADER" TEXT {4}\r\nab\r\n url /INBOX/;uid=1 text ~{2}\r\n\x00x) {1}\r\nz\r\n');
    if (!r.ok || r.command.name !== 'APPEND') throw new Error(`not APPEND: ${JSON.stringify(r)}`);
    const [cat, plain] = r.command.messages;
    expect(cat).toMatchObject({ flags: ['\\Seen'], data: Buffer.alloc(0), binary: false });
    expect(cat!.catenate).toEqual([
      { type: 'URL', url: '/INBOX;UIDVALIDITY=9/;UID=3/;SECTION=HEADER' },
      { type: 'TEXT', data: Buffer.from('ab\r\n'), binary: false },
      { type: 'URL', url: '/INBOX/;uid=1' },
      { type: 'TEXT', data: Buffer.from('\x00x', 'latin1'), binary: true },
    ]);
    expect(plain).toEqual({ flags: [], date: null, data: Buffer.from('z'), binary: false });
  });

  it.each([
    ['a APPEND INBOX CATENATE', 'Expected space'],
    ['a APPEND INBOX CATENATE ()', 'Expected atom'],
    ['a APPEND INBOX CATENATE (FILE x)', 'Expected TEXT or URL'],
    ['a APPEND INBOX CATENATE (URL "/a/;uid=1"', 'Expected ")"'],
    ['a APPEND INBOX CONCAT (URL x)', 'Expected message literal'],
    [`a APPEND INBOX CATENATE (${Array.from({ length: 51 }, () => 'URL x').join(' ')})`, 'At most 50 CATENATE parts'],
  ])('rejects CATENATE %j', (line, message) => {
    expect(parse(line)).toMatchObject({ ok: false, error: { tag: 'a', code: 'syntax', message } });
  });

  it('rejects a literal whose size does not match', () => {
    const raw = { lines: [Buffer.from('a APPEND INBOX {5}'), Buffer.alloc(0)], literals: [Buffer.from('abc')] };
    expect(parseImapCommand(raw)).toMatchObject({ ok: false, error: { message: 'Literal size mismatch' } });
  });
});

describe('STORE', () => {
  it.each([
    ['s STORE 2:4 +FLAGS (\\Deleted)', { uid: false, set: { type: 'set', ranges: [seq(2, 4)] }, operation: 'add', silent: false, flags: ['\\Deleted'], unchangedSince: null }],
    ['s UID STORE 1,3 -flags.silent \\SEEN $Junk', { uid: true, set: { type: 'set', ranges: [seq(1), seq(3)] }, operation: 'remove', silent: true, flags: ['\\Seen', '$Junk'], unchangedSince: null }],
    ['s STORE * FLAGS ()', { uid: false, set: { type: 'set', ranges: [seq('*')] }, operation: 'set', silent: false, flags: [], unchangedSince: null }],
    ['s STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)', {
      uid: false, set: { type: 'set', ranges: [seq(7), seq(5), seq(9)] }, operation: 'add', silent: true, flags: ['\\Deleted'], unchangedSince: 320162338n,
    }],
    ['s STORE $ +FLAGS (\\Flagged)', { uid: false, set: { type: 'saved' }, operation: 'add', silent: false, flags: ['\\Flagged'], unchangedSince: null }],
  ])('%s', (line, fields) => {
    expect(parse(line)).toEqual({ ok: true, command: { tag: 's', name: 'STORE', ...fields } });
  });

  it.each([
    ['s STORE 1 +FLAG (\\Seen)', 'Expected FLAGS or FLAGS.SILENT'],
    ['s STORE 0 FLAGS (\\Seen)', 'Invalid sequence set "0"'],
    ['s STORE 1 FLAGS (\\Seen', 'Expected space'],
    ['s STORE 1 (FOO 1) FLAGS ()', 'Unknown STORE modifier FOO'],
    ['s STORE 1 FLAGS', 'Expected space'],
  ])('rejects %j', (line, message) => {
    expect(parse(line)).toEqual({ ok: false, error: { tag: 's', code: 'syntax', message } });
  });
});

describe('COPY, MOVE, EXPUNGE', () => {
  it.each([
    ['m COPY 2:4 MEETING', { name: 'COPY', uid: false, set: { type: 'set', ranges: [seq(2, 4)] }, mailbox: 'MEETING' }],
    ['m UID MOVE 42:69 "Archive/2024"', { name: 'MOVE', uid: true, set: { type: 'set', ranges: [seq(42, 69)] }, mailbox: 'Archive/2024' }],
    ['m MOVE $ inbox', { name: 'MOVE', uid: false, set: { type: 'saved' }, mailbox: 'INBOX' }],
    ['m EXPUNGE', { name: 'EXPUNGE', uid: false }],
    ['m UID EXPUNGE 3000:3002', { name: 'EXPUNGE', uid: true, set: { type: 'set', ranges: [seq(3000, 3002)] } }],
  ])('%s', (line, fields) => {
    expect(parse(line)).toEqual({ ok: true, command: { tag: 'm', ...fields } });
  });

  it.each(['m UID EXPUNGE', 'm EXPUNGE 1', 'm COPY 1', 'm MOVE x INBOX'])('rejects %j', (line) => {
    expect(parse(line)).toMatchObject({ ok: false, error: { tag: 'm', code: 'syntax' } });
  });
});
