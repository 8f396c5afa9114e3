import { describe, expect, it } from 'vitest';
import { parseImapCommand } from '../parse.js';
import { rawFromLine } from '../raw.js';
import { readAll } from '../read-all.js';

const parse = (line: string | Buffer) => parseImapCommand(rawFromLine(line));
const criteria = (line: string) => {
  const r = parse(line);
  if (!r.ok || r.command.name !== 'SEARCH') throw new Error(JSON.stringify(r));
  return r.command.criteria;
};
const set = (from: number | '*', to: number | '*' = from) => ({ type: 'set', ranges: [{ from, to }] });

describe('SEARCH', () => {
  it('reads the RFC 9051 example', () => {
    expect(parse('A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"')).toEqual({
      ok: true,
      command: {
        tag: 'A282', name: 'SEARCH', uid: false, charset: null, returnOptions: null,
        criteria: [{ key: 'FLAGGED' }, { key: 'SINCE', date: { year: 1994, month: 2, day: 1 } }, { key: 'NOT', operand: { key: 'FROM', value: 'Smith' } }],
      },
    });
  });

  it('reads RETURN options and CHARSET', () => {
    expect(parse('A283 UID SEARCH RETURN (MIN COUNT SAVE) CHARSET utf-8 ALL')).toEqual({
      ok: true, command: { tag: 'A283', name: 'SEARCH', uid: true, charset: 'UTF-8', returnOptions: ['MIN', 'COUNT', 'SAVE'], criteria: [{ key: 'ALL' }] },
    });
    expect(parse('a SEARCH RETURN () ALL')).toMatchObject({ ok: true, command: { returnOptions: [] } });
    expect(parse('a SEARCH CHARSET "US-ASCII" SEEN')).toMatchObject({ ok: true, command: { charset: 'US-ASCII' } });
  });

  it('reads a search string from a literal', () => {
    const ev = readAll([Buffer.from('A284 SEARCH CHARSET UTF-8 TEXT {12}\r\n\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xa7\r\n', 'latin1')]).find((e) => e.type === 'command');
    if (ev?.type !== 'command') throw new Error('no command');
    expect(parseImapCommand(ev.command)).toMatchObject({ ok: true, command: { criteria: [{ key: 'TEXT', value: '日本語で' }] } });
  });

  it('keeps bytes of other charsets one per char', () => {
    expect(parse(Buffer.from('a SEARCH CHARSET ISO-8859-1 SUBJECT "caf\xe9"', 'latin1'))).toMatchObject({
      ok: true, command: { charset: 'ISO-8859-1', criteria: [{ key: 'SUBJECT', value: 'caf\u00e9' }] },
    });
    expect(parse(Buffer.from('a SEARCH SUBJECT "caf\xe9"', 'latin1'))).toMatchObject({ ok: false, error: { message: 'Invalid UTF-8 in search string' } });
  });

  it.each([
    ['ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN', [
      'ANSWERED', 'DELETED', 'DRAFT', 'FLAGGED', 'NEW', 'OLD', 'RECENT', 'SEEN', 'UNANSWERED', 'UNDELETED', 'UNDRAFT', 'UNFLAGGED', 'UNSEEN',
    ].map((key) => ({ key }))],
    ['KEYWORD $Forwarded UNKEYWORD \\seen', [{ key: 'KEYWORD', flag: '$Forwarded' }, { key: 'UNKEYWORD', flag: '\\Seen' }]],
    ['BCC a CC b FROM c SUBJECT d TEXT e TO f BODY g', [
      { key: 'BCC', value: 'a' }, { key: 'CC', value: 'b' }, { key: 'FROM', value: 'c' }, { key: 'SUBJECT', value: 'd' },
      { key: 'TEXT', value: 'e' }, { key: 'TO', value: 'f' }, { key: 'BODY', value: 'g' },
    ]],
    ['HEADER Message-ID "<a@b.example>"', [{ key: 'HEADER', field: 'Message-ID', value: '<a@b.example>' }]],
    ['BEFORE "1-Jan-2000" ON 2-Jan-2000 SENTBEFORE 3-Jan-2000 SENTON 4-Jan-2000 SENTSINCE 5-Jan-2000', [
      { key: 'BEFORE', date: { year: 2000, month: 1, day: 1 } }, { key: 'ON', date: { year: 2000, month: 1, day: 2 } },
      { key: 'SENTBEFORE', date: { year: 2000, month: 1, day: 3 } }, { key: 'SENTON', date: { year: 2000, month: 1, day: 4 } },
      { key: 'SENTSINCE', date: { year: 2000, month: 1, day: 5 } },
    ]],
    ['LARGER 1024 SMALLER 99999999999999999', [{ key: 'LARGER', size: 1024 }, { key: 'SMALLER', size: Number.MAX_SAFE_INTEGER }]],
    ['UID 2:* 1,3 $ *', [{ key: 'UID', set: set(2, '*') }, { key: 'SEQ', set: { type: 'set', ranges: [{ from: 1, to: 1 }, { from: 3, to: 3 }] } }, { key: 'SEQ', set: { type: 'saved' } }, { key: 'SEQ', set: set('*') }]],
    ['OR (SEEN FLAGGED) NOT UID 1:*', [{
      key: 'OR', left: { key: 'AND', operands: [{ key: 'SEEN' }, { key: 'FLAGGED' }] }, right: { key: 'NOT', operand: { key: 'UID', set: set(1, '*') } },
    }]],
    ['OR OR SEEN DRAFT DELETED', [{ key: 'OR', left: { key: 'OR', left: { key: 'SEEN' }, right: { key: 'DRAFT' } }, right: { key: 'DELETED' } }]],
    ['MODSEQ 620162338', [{ key: 'MODSEQ', modseq: 620162338n, entry: null }]],
    ['MODSEQ "/flags/\\\\draft" all 620162338', [{ key: 'MODSEQ', modseq: 620162338n, entry: { name: '/flags/\\draft', type: 'all' } }]],
  ])('keys %s', (keys, expected) => {
    expect(criteria(`s SEARCH ${keys}`)).toEqual(expected);
  });

  it.each([
    ['s SEARCH', 'Expected space'],
    ['s SEARCH FOO', 'Unknown search key FOO'],
    ['s SEARCH SINCE 31-Feb-2020', 'Invalid date "31-Feb-2020"'],
    ['s SEARCH OR SEEN', 'Expected space'],
    ['s SEARCH ()', 'Empty list'],
    ['s SEARCH RETURN (FOO) ALL', 'Unknown SEARCH return option FOO'],
    ['s SEARCH RETURN ALL', 'Expected "("'],
    ['s SEARCH CHARSET', 'Expected space'],
    ['s SEARCH MODSEQ "/flags/x" mine 5', 'Invalid MODSEQ entry type'],
    ['s SEARCH LARGER -1', 'Expected number'],
    ['s SEARCH SEEN  UNSEEN', 'Expected search key'],
    ['s SEARCH 1:5,$', 'Invalid sequence set "1:5,$"'],
  ])('rejects %j', (line, message) => {
    expect(parse(line)).toEqual({ ok: false, error: { tag: 's', code: 'syntax', message } });
  });

  it('refuses nesting past the depth limit without exhausting the stack', () => {
    expect(parse(`s SEARCH ${'('.repeat(40)}ALL${')'.repeat(40)}`)).toEqual({ ok: false, error: { tag: 's', code: 'too-complex', message: 'Nesting too deep' } });
    expect(parse(`s SEARCH ${'NOT '.repeat(5000)}ALL`)).toMatchObject({ ok: false, error: { code: 'too-complex' } });
    expect(parse(`s SEARCH ${'OR ALL '.repeat(5000)}ALL`)).toMatchObject({ ok: false, error: { code: 'too-complex' } });
    expect(criteria(`s SEARCH ${'('.repeat(20)}ALL${')'.repeat(20)}`)).toHaveLength(1);
  });
});
