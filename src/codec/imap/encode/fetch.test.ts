import { describe, expect, it } from 'vitest';
import type { FetchAtt } from '../ast.js';
import { parseImapCommand } from '../parse.js';
import { rawFromLine } from '../raw.js';
import { fetchItemName, fetchResponse, internalDateValue, modseqValue } from './fetch.js';
import { flagsValue } from './flags.js';
import { literal } from './value.js';

const requested = (items: string): FetchAtt[] => {
  const r = parseImapCommand(rawFromLine(`f FETCH 1 ${items}`));
  if (!r.ok || r.command.name !== 'FETCH') throw new Error(JSON.stringify(r));
  return [...r.command.items];
};

describe('fetchItemName', () => {
  it.each([
    ['FLAGS', 'FLAGS'],
    ['RFC822.SIZE', 'RFC822.SIZE'],
    ['BODY.PEEK[]', 'BODY[]'],
    ['BODY[]<0.2048>', 'BODY[]<0>'],
    ['BODY.PEEK[HEADER.FIELDS (From "X Odd")]', 'BODY[HEADER.FIELDS (From "X Odd")]'],
    ['body.peek[1.2.mime]', 'BODY[1.2.MIME]'],
    ['BODY[3.HEADER.FIELDS.NOT (Received)]<10.5>', 'BODY[3.HEADER.FIELDS.NOT (Received)]<10>'],
    ['BINARY.PEEK[1]<0.10>', 'BINARY[1]<0>'],
    ['BINARY.SIZE[1.2]', 'BINARY.SIZE[1.2]'],
    ['BINARY[]', 'BINARY[]'],
  ])('%s is answered as %s', (item, name) => {
    expect(requested(item).map(fetchItemName)).toEqual([name]);
  });
});

describe('fetchResponse', () => {
  it('writes items in order with literals as separate Buffers', () => {
    const body = Buffer.from('Subject: hi\r\n\r\nhello\r\n');
    const parts = fetchResponse(12, [
      ['UID', 4827313],
      ['FLAGS', flagsValue(['\\Seen', '$Forwarded'])],
      ['INTERNALDATE', internalDateValue(new Date('1996-07-17T09:44:25Z'), -420)],
      ['RFC822.SIZE', 4286],
      ['MODSEQ', modseqValue(12121231000n)],
      ['BODY[]', body],
      ['BODY[HEADER.FIELDS (X-TUID)]', 'X-TUID: abc\r\n\r\n'],
      ['BODY[2]', null],
    ]);
    expect(parts[1]).toBe(body);
    expect(Buffer.concat(parts).toString('latin1')).toBe(
      '* 12 FETCH (UID 4827313 FLAGS (\\Seen $Forwarded) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 ' +
        'MODSEQ (12121231000) BODY[] {22}\r\nSubject: hi\r\n\r\nhello\r\n BODY[HEADER.FIELDS (X-TUID)] {15}\r\nX-TUID: abc\r\n\r\n BODY[2] NIL)\r\n',
    );
  });

  it('writes literal8 for binary data and empty literals', () => {
    const out = Buffer.concat(fetchResponse(1, [['BINARY[1]', literal(Buffer.from([0, 1, 2]), true)], ['BODY[]', Buffer.alloc(0)]]));
    expect(out.toString('latin1')).toBe('* 1 FETCH (BINARY[1] ~{3}\r\n\x00\x01\x02 BODY[] {0}\r\n)\r\n');
  });

  it('quotes UTF-8 only when enabled', () => {
    expect(Buffer.concat(fetchResponse(1, [['X', 'é']])).toString('utf8')).toBe('* 1 FETCH (X {2}\r\né)\r\n');
    expect(Buffer.concat(fetchResponse(1, [['X', 'é']], { utf8: true })).toString('utf8')).toBe('* 1 FETCH (X "é")\r\n');
  });
});
