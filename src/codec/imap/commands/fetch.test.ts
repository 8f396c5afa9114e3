import { describe, expect, it } from 'vitest';
import type { FetchAtt } from '../ast.js';
import { parseImapCommand } from '../parse.js';
import { rawFromLine } from '../raw.js';

const parse = (line: string) => parseImapCommand(rawFromLine(line));
const items = (line: string): FetchAtt[] => {
  const r = parse(line);
  if (!r.ok || r.command.name !== 'FETCH') throw new Error(JSON.stringify(r));
  return [...r.command.items];
};
const body = (section: Partial<{ part: number[]; text: string | null; fields: string[] }>, peek = false, partial: { offset: number; length: number } | null = null) => ({
  name: 'BODY[]', peek, section: { part: [], text: null, fields: [], ...section }, partial,
});

describe('FETCH', () => {
  it('reads the Thunderbird header fetch exactly', () => {
    const line = 'a1 UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])';
    expect(parse(line)).toEqual({
      ok: true,
      command: {
        tag: 'a1', name: 'FETCH', uid: true, set: { type: 'set', ranges: [{ from: 1, to: '*' }] }, macro: null,
        items: [
          { name: 'UID' }, { name: 'RFC822.SIZE' }, { name: 'FLAGS' },
          body({ text: 'HEADER.FIELDS', fields: ['From', 'To', 'Cc', 'Bcc', 'Subject', 'Date', 'Message-ID', 'Priority', 'X-Priority', 'References', 'Newsgroups', 'In-Reply-To', 'Content-Type', 'Reply-To'] }, true),
        ],
        changedSince: null, vanished: false,
      },
    });
  });

  it('expands macros', () => {
    expect(parse('f FETCH 1 fast')).toMatchObject({ command: { macro: 'FAST', items: [{ name: 'FLAGS' }, { name: 'INTERNALDATE' }, { name: 'RFC822.SIZE' }] } });
    expect(items('f FETCH 1 ALL').map((i) => i.name)).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
    expect(items('f FETCH 1 FULL').map((i) => i.name)).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
  });

  it.each([
    ['FLAGS', { name: 'FLAGS' }],
    ['internaldate', { name: 'INTERNALDATE' }],
    ['RFC822', { name: 'RFC822' }],
    ['RFC822.HEADER', { name: 'RFC822.HEADER' }],
    ['RFC822.TEXT', { name: 'RFC822.TEXT' }],
    ['ENVELOPE', { name: 'ENVELOPE' }],
    ['BODY', { name: 'BODY' }],
    ['BODYSTRUCTURE', { name: 'BODYSTRUCTURE' }],
    ['MODSEQ', { name: 'MODSEQ' }],
    ['BODY[]', body({})],
    ['BODY[]<0.2048>', body({}, false, { offset: 0, length: 2048 })],
    ['BODY.PEEK[HEADER]', body({ text: 'HEADER' }, true)],
    ['BODY[TEXT]', body({ text: 'TEXT' })],
    ['body[1]', body({ part: [1] })],
    ['BODY[1.2.3]', body({ part: [1, 2, 3] })],
    ['BODY[4.2.MIME]', body({ part: [4, 2], text: 'MIME' })],
    ['BODY[3.HEADER.FIELDS.NOT (Received "X-Spam")]', body({ part: [3], text: 'HEADER.FIELDS.NOT', fields: ['Received', 'X-Spam'] })],
    ['BODY.PEEK[2.TEXT]<100.50>', body({ part: [2], text: 'TEXT' }, true, { offset: 100, length: 50 })],
    ['BINARY[]', { name: 'BINARY[]', peek: false, part: [], partial: null }],
    ['BINARY.PEEK[1.2]<0.10>', { name: 'BINARY[]', peek: true, part: [1, 2], partial: { offset: 0, length: 10 } }],
    ['BINARY.SIZE[3]', { name: 'BINARY.SIZE', part: [3] }],
  ])('item %s', (item, expected) => {
    expect(items(`f FETCH 1 ${item}`)).toEqual([expected]);
  });

  it('reads CHANGEDSINCE and VANISHED modifiers', () => {
    expect(parse('s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)')).toMatchObject({
      ok: true, command: { uid: true, changedSince: 12345n, vanished: true },
    });
    expect(parse('s FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)')).toMatchObject({ ok: true, command: { uid: false, changedSince: 12345n, vanished: false } });
  });

  it.each([
    ['f FETCH 1:* (FLAGS) (VANISHED)', 'VANISHED requires UID FETCH with CHANGEDSINCE'],
    ['f FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)', 'VANISHED requires UID FETCH with CHANGEDSINCE'],
    ['f FETCH 1 BODY[MIME]', 'Invalid section MIME'],
    ['f FETCH 1 BODY[0]', 'Number must not be zero'],
    ['f FETCH 1 BODY[HEADER.FIELDS]', 'Expected space'],
    ['f FETCH 1 BODY[HEADER.FIELDS ()]', 'Empty list'],
    ['f FETCH 1 BODY[]<0.0>', 'Number must not be zero'],
    ['f FETCH 1 BODY[]<5>', 'Expected "."'],
    ['f FETCH 1 BINARY[TEXT]', 'Expected number'],
    ['f FETCH 1 BINARY.SIZE', 'Unknown fetch item BINARY.SIZE'],
    ['f FETCH 1 BODY.PEEK', 'Unknown fetch item BODY.PEEK'],
    ['f FETCH 1 ()', 'Empty list'],
    ['f FETCH 1 (FLAGS', 'Expected space'],
    ['f FETCH 1 FOO', 'Unknown fetch item FOO'],
    ['f FETCH 1 (FLAGS) (FOO)', 'Unknown FETCH modifier FOO'],
    ['f FETCH 1:2: FLAGS', 'Invalid sequence set "1:2:"'],
  ])('rejects %j', (line, message) => {
    expect(parse(line)).toEqual({ ok: false, error: { tag: 'f', code: 'syntax', message } });
  });
});
