import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dotStuff, extractTop, pop3Continuation, pop3Err, pop3MultiLine, pop3MultiLineText, pop3Ok } from './encode.js';

const s = (b: Buffer | Buffer[]) => (Array.isArray(b) ? Buffer.concat(b) : b).toString('latin1');

describe('status lines', () => {
  it('writes +OK and -ERR with optional response codes', () => {
    expect(s(pop3Ok())).toBe('+OK\r\n');
    expect(s(pop3Ok('2 320'))).toBe('+OK 2 320\r\n');
    expect(s(pop3Err('maildrop already locked', 'IN-USE'))).toBe('-ERR [IN-USE] maildrop already locked\r\n');
    expect(s(pop3Err('Authentication failed', 'AUTH'))).toBe('-ERR [AUTH] Authentication failed\r\n');
    expect(s(pop3Err('try later', 'SYS/TEMP'))).toBe('-ERR [SYS/TEMP] try later\r\n');
    expect(s(pop3Err('x', 'bad code]'))).toBe('-ERR x\r\n');
    expect(s(pop3Err('one\r\ntwo'))).toBe('-ERR one two\r\n');
  });

  it('writes SASL continuations', () => {
    expect(s(pop3Continuation())).toBe('+ \r\n');
    expect(s(pop3Continuation('PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+'))).toBe('+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n');
  });
});

describe('multi-line responses', () => {
  it('byte-stuffs lines starting with "." and terminates', () => {
    const body = Buffer.from('Subject: x\r\n\r\n.hidden\r\n..two\r\nend.\r\n.\r\n');
    expect(s(pop3MultiLine(pop3Ok('message follows'), body))).toBe(
      '+OK message follows\r\nSubject: x\r\n\r\n..hidden\r\n...two\r\nend.\r\n..\r\n.\r\n',
    );
  });

  it('adds a final CRLF, turns bare LF into CRLF, and handles an empty body', () => {
    expect(s(dotStuff(Buffer.from('a\n.b')))).toBe('a\r\n..b\r\n');
    expect(s(pop3MultiLine(pop3Ok(), Buffer.alloc(0)))).toBe('+OK\r\n.\r\n');
  });

  it('writes text listings', () => {
    expect(s(pop3MultiLineText(pop3Ok('2 messages'), ['1 120', '2 200']))).toBe('+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n');
    expect(s(pop3MultiLineText(pop3Ok('Capability list follows'), ['USER', 'SASL PLAIN', '.odd']))).toBe(
      '+OK Capability list follows\r\nUSER\r\nSASL PLAIN\r\n..odd\r\n.\r\n',
    );
  });

  it('unstuffing gives back the body (with CRLF line ends)', () => {
    const line = fc.string({ unit: 'binary-ascii', maxLength: 20 }).map((l) => l.replace(/[\r\n]/g, ''));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), (ls) => {
        const body = ls.map((l) => `${l}\r\n`).join('');
        const wire = s(pop3MultiLine(pop3Ok(), Buffer.from(body, 'latin1')));
        const got = wire.split('\r\n').slice(1);
        const end = got.indexOf('.');
        expect(end).toBe(ls.length);
        expect(got.slice(0, end).map((l) => (l.startsWith('.') ? l.slice(1) : l))).toEqual(ls);
      }),
    );
  });
});

describe('extractTop', () => {
  const msg = Buffer.from('From: a@b\r\nSubject: hi\r\n\r\nline 1\r\nline 2\r\nline 3');

  it.each([
    [0, 'From: a@b\r\nSubject: hi\r\n\r\n'],
    [1, 'From: a@b\r\nSubject: hi\r\n\r\nline 1\r\n'],
    [2, 'From: a@b\r\nSubject: hi\r\n\r\nline 1\r\nline 2\r\n'],
    [3, 'From: a@b\r\nSubject: hi\r\n\r\nline 1\r\nline 2\r\nline 3'],
    [99, 'From: a@b\r\nSubject: hi\r\n\r\nline 1\r\nline 2\r\nline 3'],
  ])('TOP n %i', (n, expected) => {
    expect(s(extractTop(msg, n))).toBe(expected);
  });

  it('handles no body, an empty header section and bare LF', () => {
    expect(s(extractTop(Buffer.from('Subject: only\r\n'), 5))).toBe('Subject: only\r\n');
    expect(s(extractTop(Buffer.from('\r\nbody\r\nmore\r\n'), 1))).toBe('\r\nbody\r\n');
    expect(s(extractTop(Buffer.from('A: b\n\nx\ny\n'), 1))).toBe('A: b\n\nx\n');
  });
});
