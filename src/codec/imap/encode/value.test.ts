import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseImapCommand } from '../parse.js';
import { readAll } from '../read-all.js';
import { mailboxWireName } from './untagged.js';
import { atom, canQuote, encodeString, encodeValue, literal, ResponseWriter, type EncodeOptions } from './value.js';

const text = (b: Buffer) => b.toString('latin1');

describe('encodeString', () => {
  it.each([
    ['hello', '"hello"'],
    ['', '""'],
    ['say "hi" \\o/', '"say \\"hi\\" \\\\o/"'],
    ['two\r\nlines', '{10}\r\ntwo\r\nlines'],
    ['nul\0', '{4}\r\nnul\0'],
    ['tab\t', '{4}\r\ntab\t'],
    ['café', '{5}\r\ncaf\xc3\xa9'],
  ])('%j', (s, wire) => {
    expect(text(encodeString(s))).toBe(wire);
  });

  it('quotes UTF-8 once the client enabled it, but never invalid UTF-8', () => {
    expect(encodeString('café', { utf8: true }).toString('utf8')).toBe('"café"');
    expect(text(encodeString(Buffer.from([0x61, 0xff]), { utf8: true }))).toBe('{2}\r\na\xff');
  });

  it('switches to a literal past maxQuoted', () => {
    expect(text(encodeString('abcd', { maxQuoted: 3 }))).toBe('{4}\r\nabcd');
    expect(canQuote(Buffer.alloc(1024, 0x61))).toBe(true);
    expect(canQuote(Buffer.alloc(1025, 0x61))).toBe(false);
  });
});

describe('ResponseWriter', () => {
  it('writes NIL, numbers, atoms, strings, literals and nested lists', () => {
    const v = [null, 42, 2n ** 63n - 1n, atom('\\Seen'), 'a b', Buffer.from('raw'), literal(Buffer.from('a\0b'), true), [[], ['x']]];
    expect(text(encodeValue(v))).toBe('(NIL 42 9223372036854775807 \\Seen "a b" {3}\r\nraw ~{3}\r\na\0b (() ("x")))');
  });

  it('keeps literal data as separate Buffers without copying', () => {
    const data = Buffer.from('message body');
    const parts = new ResponseWriter().write('* 1 FETCH (BODY[] ').value(data).write(')\r\n').buffers();
    expect(parts.map(text)).toEqual(['* 1 FETCH (BODY[] {12}\r\n', 'message body', ')\r\n']);
    expect(parts[1]).toBe(data);
  });

  it('writes nonsense numbers as 0', () => {
    expect(text(encodeValue([-1, Number.NaN, -5n, 3.7]))).toBe('(0 0 0 3)');
  });
});

/** Sends the string as a LOGIN user name through the reader and parser. */
function roundTrip(s: string, options: EncodeOptions): string {
  const wire = Buffer.concat([Buffer.from('a LOGIN '), encodeString(s, options), Buffer.from(' x\r\n')]);
  const ev = readAll([wire]).find((e) => e.type === 'command');
  if (ev?.type !== 'command') throw new Error('no command');
  const r = parseImapCommand(ev.command);
  if (!r.ok || r.command.name !== 'LOGIN') throw new Error(JSON.stringify(r));
  return r.command.username;
}

describe('round trip through the parser', () => {
  const noNul = fc.string({ unit: 'binary', maxLength: 1200 }).map((s) => s.replace(/\0/g, ''));
  const options = fc.record({ utf8: fc.boolean(), maxQuoted: fc.integer({ min: 0, max: 2000 }) });

  it('any string (without NUL) comes back unchanged', () => {
    fc.assert(
      fc.property(noNul, options, (s, o) => {
        expect(roundTrip(s, o)).toBe(s);
      }),
    );
  });

  it('tricky strings come back unchanged', () => {
    for (const s of ['"', '\\', '{5}', '{5+}', ' ', '\r', '\n', 'a\r\nb', '~{1}', ')', '('] as const) {
      expect(roundTrip(s, {})).toBe(s);
      expect(roundTrip(s, { utf8: true })).toBe(s);
    }
  });

  it('mailbox names survive response encoding and command parsing, in both modes', () => {
    fc.assert(
      fc.property(noNul.filter((s) => s.length > 0), fc.boolean(), (name, utf8) => {
        const wire = Buffer.concat([Buffer.from('a SELECT '), encodeString(mailboxWireName(name, { utf8 }), { utf8 }), Buffer.from('\r\n')]);
        const ev = readAll([wire]).find((e) => e.type === 'command');
        if (ev?.type !== 'command') throw new Error('no command');
        const r = parseImapCommand(ev.command, { utf8 });
        const expected = name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
        expect(r).toMatchObject({ ok: true, command: { mailbox: expected } });
      }),
    );
  });
});
