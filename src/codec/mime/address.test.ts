import { describe, expect, it } from 'vitest';
import { endsWord, formatAddress, parseAddressList, parseAddressNodes } from './address.js';
import { headerValue } from './header.js';
import { parseMessage } from './parse.js';
import { corpus } from './testing/corpus.js';

describe('parseAddressList', () => {
  it('reads the common forms', () => {
    expect(parseAddressList('a@b.c, Joe <joe@x.org>, "Smith, Ann" <ann@y.org>, bob@z.org (Bob Z)')).toEqual([
      { name: '', address: 'a@b.c' },
      { name: 'Joe', address: 'joe@x.org' },
      { name: 'Smith, Ann', address: 'ann@y.org' },
      { name: 'Bob Z', address: 'bob@z.org' },
    ]);
  });

  it('keeps spacing of multi-word and dotted names', () => {
    expect(parseAddressList('John Q. Public <jqp@example.com>')).toEqual([{ name: 'John Q. Public', address: 'jqp@example.com' }]);
  });

  it('decodes encoded words, even one that hides a comma (flanker encoded-header)', () => {
    const msg = parseMessage(corpus('flanker-encoded-header.eml'));
    expect(parseAddressList(headerValue(msg.root.header.fields, 'From')!)).toEqual([{ name: 'Foo, Bar', address: 'foo.bar@example.com' }]);
    // Adjacent words join without the blank between them (RFC 2047 section 6.2).
    expect(parseAddressList('=?utf-8?q?J=C3=BCrgen_?= "=?utf-8?q?M=C3=BCller?=" <jm@x.de>')).toEqual([
      { name: 'Jürgen Müller', address: 'jm@x.de' },
    ]);
  });

  it('returns groups with their members', () => {
    expect(parseAddressList('Team: a@x.org, B <b@x.org>; c@y.org, undisclosed-recipients:;')).toEqual([
      { name: 'Team', address: '', group: [{ name: '', address: 'a@x.org' }, { name: 'B', address: 'b@x.org' }] },
      { name: '', address: 'c@y.org' },
      { name: 'undisclosed-recipients', address: '', group: [] },
    ]);
  });

  it('handles obsolete routes, quoted local parts and domain literals', () => {
    expect(parseAddressNodes('<@a.example,@b.example:joe@c.example>')).toEqual([
      { kind: 'mailbox', phrase: '', comment: null, route: '@a.example,@b.example', local: 'joe', domain: 'c.example' },
    ]);
    expect(parseAddressList('"john smith"@example.com')).toEqual([{ name: '', address: '"john smith"@example.com' }]);
    expect(parseAddressList('x@[192.0.2.1]')).toEqual([{ name: '', address: 'x@[192.0.2.1]' }]);
    expect(parseAddressList('a . b @ c . d')).toEqual([{ name: '', address: 'a.b@c.d' }]);
  });

  it('skips junk without looping', () => {
    expect(parseAddressList(',,, ; > a@b.c ,')).toEqual([{ name: '', address: 'a@b.c' }]);
    for (const s of ['', '<', '"', '(', '<@', ':', '@', 'a@', '@b', '<a@b', 'x:y:z;', '((((', '\\']) {
      expect(() => parseAddressList(s)).not.toThrow();
    }
  });

  it('parses a 135 KB folded To field (mimekit stack-overflow)', () => {
    const msg = parseMessage(corpus('mimekit-stack-overflow.txt'));
    const list = parseAddressList(headerValue(msg.root.header.fields, 'To')!);
    expect(list[0]).toEqual({ name: 'test', address: 'test@test.com' });
  });
});

describe('endsWord', () => {
  it('ends a word at exactly what the character class /[\\s"()<>@,;:.[\\]\\\\]/ matches, for every UTF-16 code unit', () => {
    const wordEnd = /[\s"()<>@,;:.[\]\\]/;
    const differ: number[] = [];
    for (let c = 0; c <= 0xffff; c++) if (endsWord(c) !== wordEnd.test(String.fromCharCode(c))) differ.push(c);
    expect(differ).toEqual([]);
  });

  it('keeps Unicode white space (no-break, ideographic) inside a name as it is written', () => {
    expect(parseAddressList('Ann\u00a0Lee <ann@x.org>, Bo\u3000Yi <bo@y.org>')).toEqual([
      { name: 'Ann\u00a0Lee', address: 'ann@x.org' },
      { name: 'Bo\u3000Yi', address: 'bo@y.org' },
    ]);
  });
});

describe('formatAddress', () => {
  it('quotes local parts that are not dot-atoms', () => {
    expect(formatAddress('a.b', 'x.org')).toBe('a.b@x.org');
    expect(formatAddress('a b', 'x.org')).toBe('"a b"@x.org');
    expect(formatAddress('a"b', 'x.org')).toBe('"a\\"b"@x.org');
    expect(formatAddress('..', 'x.org')).toBe('".."@x.org');
  });
});
