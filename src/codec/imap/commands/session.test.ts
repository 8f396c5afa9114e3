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

describe('no-argument commands', () => {
  it.each(['CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'NAMESPACE', 'IDLE', 'CHECK', 'CLOSE', 'UNSELECT'])('%s', (name) => {
    expect(parse(`t1 ${name.toLowerCase()}`)).toEqual({ ok: true, command: { tag: 't1', name } });
  });

  it('rejects arguments', () => {
    expect(parse('t1 NOOP x')).toEqual({ ok: false, error: { tag: 't1', code: 'syntax', message: 'Unexpected extra arguments' } });
    expect(parse('t1 NOOP ')).toMatchObject({ ok: false });
  });
});

describe('AUTHENTICATE', () => {
  it.each([
    ['a AUTHENTICATE plain', { mechanism: 'PLAIN', initialResponse: null }],
    ['a AUTHENTICATE PLAIN AHVzZXIAcGFzcw==', { mechanism: 'PLAIN', initialResponse: 'AHVzZXIAcGFzcw==' }],
    ['a AUTHENTICATE EXTERNAL =', { mechanism: 'EXTERNAL', initialResponse: '=' }],
    ['a AUTHENTICATE SCRAM-SHA-256 biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM', {
      mechanism: 'SCRAM-SHA-256', initialResponse: 'biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM',
    }],
  ])('%s', (line, fields) => {
    expect(parse(line)).toEqual({ ok: true, command: { tag: 'a', name: 'AUTHENTICATE', ...fields } });
  });

  it.each(['a AUTHENTICATE', 'a AUTHENTICATE PLAIN abc', 'a AUTHENTICATE PLAIN a=b=', 'a AUTHENTICATE PLAIN AAAA AAAA'])('rejects %j', (line) => {
    expect(parse(line)).toMatchObject({ ok: false, error: { tag: 'a' } });
  });
});

describe('LOGIN', () => {
  it('reads atoms, quoted strings with escapes and literals', () => {
    expect(parse('a1 LOGIN fred "p\\"w\\\\d"')).toEqual({ ok: true, command: { tag: 'a1', name: 'LOGIN', username: 'fred', password: 'p"w\\d' } });
    expect(parseStream('a2 LOGIN {4}\r\nfred {6+}\r\nsecret\r\n')).toEqual({
      ok: true, command: { tag: 'a2', name: 'LOGIN', username: 'fred', password: 'secret' },
    });
    expect(parse('a3 LOGIN "jos\xc3\xa9" "\xe2\x82\xac"'.replace(/[\x80-\xff]+/g, (m) => Buffer.from(m, 'latin1').toString('utf8')))).toEqual({
      ok: true, command: { tag: 'a3', name: 'LOGIN', username: 'josé', password: '€' },
    });
  });

  it.each([
    ['a LOGIN fred', 'Expected space'],
    ['a LOGIN fred "unterminated', 'Unterminated quoted string'],
    ['a LOGIN fred "bad\\escape"', 'Invalid escape in quoted string'],
    ['a LOGIN fred pw extra', 'Unexpected extra arguments'],
    ['a LOGIN (fred) pw', 'Expected string'],
  ])('rejects %j', (line, message) => {
    expect(parse(line)).toEqual({ ok: false, error: { tag: 'a', code: 'syntax', message } });
  });

  it('rejects NUL in literals and invalid UTF-8', () => {
    expect(parseStream('a LOGIN {3}\r\na\x00b pw\r\n')).toMatchObject({ ok: false, error: { message: 'NUL in literal' } });
    expect(parseImapCommand(rawFromLine(Buffer.from('a LOGIN "\xff" x', 'latin1')))).toMatchObject({ ok: false, error: { message: 'Invalid UTF-8 in user name' } });
  });
});

describe('ENABLE and ID', () => {
  it('ENABLE lists capabilities upper-cased', () => {
    expect(parse('e ENABLE condstore utf8=accept')).toEqual({ ok: true, command: { tag: 'e', name: 'ENABLE', capabilities: ['CONDSTORE', 'UTF8=ACCEPT'] } });
    expect(parse('e ENABLE')).toMatchObject({ ok: false });
  });

  it('ID reads NIL, empty and key/value lists', () => {
    expect(parse('i ID NIL')).toEqual({ ok: true, command: { tag: 'i', name: 'ID', params: null } });
    expect(parse('i ID ()')).toEqual({ ok: true, command: { tag: 'i', name: 'ID', params: [] } });
    expect(parse('i ID ("name" "Thunderbird" "version" "115.3.1" "os" NIL)')).toEqual({
      ok: true,
      command: { tag: 'i', name: 'ID', params: [['name', 'Thunderbird'], ['version', '115.3.1'], ['os', null]] },
    });
    expect(parse('i ID ("name")')).toMatchObject({ ok: false });
    expect(parse('i ID ("name" "x"')).toMatchObject({ ok: false });
  });
});
