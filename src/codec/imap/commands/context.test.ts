/** RFC 5267 section 4 syntax: RETURN (UPDATE), CANCELUPDATE, and the ADDTO/REMOVEFROM response. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contextUpdateResponse } from '../encode/context.js';
import { parseImapCommand } from '../parse.js';
import { rawFromLine } from '../raw.js';

const parse = (line: string | Buffer) => parseImapCommand(rawFromLine(line));

describe('RETURN (UPDATE)', () => {
  it('is a SEARCH and SORT return option', () => {
    expect(parse('a SEARCH RETURN (UPDATE) SEEN')).toMatchObject({ ok: true, command: { name: 'SEARCH', returnOptions: ['UPDATE'] } });
    expect(parse('a UID SEARCH RETURN (UPDATE ALL PARTIAL 1:10) SEEN')).toMatchObject({ ok: false });
    expect(parse('a UID SEARCH RETURN (UPDATE COUNT PARTIAL 1:10) SEEN')).toMatchObject({
      ok: true,
      command: { uid: true, returnOptions: ['UPDATE', 'COUNT'], partial: { first: 1, last: 10 } },
    });
    expect(parse('a SORT RETURN (UPDATE MIN) (DATE) UTF-8 ALL')).toMatchObject({ ok: true, command: { name: 'SORT', returnOptions: ['UPDATE', 'MIN'] } });
  });
});

describe('CANCELUPDATE', () => {
  it('reads one or more tag strings', () => {
    expect(parse('c CANCELUPDATE "a1"')).toEqual({ ok: true, command: { tag: 'c', name: 'CANCELUPDATE', tags: ['a1'] } });
    expect(parse('c CANCELUPDATE "a1" "b 2"')).toMatchObject({ ok: true, command: { tags: ['a1', 'b 2'] } });
  });

  it.each(['c CANCELUPDATE', 'c CANCELUPDATE ', 'c CANCELUPDATE a1', 'c CANCELUPDATE "a1" ', 'c CANCELUPDATE "a1"x', `c CANCELUPDATE${' "t"'.repeat(101)}`])(
    'rejects %j',
    (line) => {
      expect(parse(line)).toMatchObject({ ok: false, error: { tag: 'c' } });
    },
  );

  it('reads back any set of quotable tags, and never throws on any input', () => {
    const tagString = fc.string({ unit: fc.constantFrom(...'abcXYZ019 .-*%'.split('')), minLength: 0, maxLength: 12 });
    fc.assert(
      fc.property(fc.array(tagString, { minLength: 1, maxLength: 8 }), (tags) => {
        const r = parse(`t CANCELUPDATE ${tags.map((t) => `"${t}"`).join(' ')}`);
        expect(r).toEqual({ ok: true, command: { tag: 't', name: 'CANCELUPDATE', tags } });
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 60 }), (tail) => {
        const r = parse(`t CANCELUPDATE ${tail}`.replace(/[\r\n]/g, ' '));
        expect(typeof r.ok).toBe('boolean');
      }),
    );
  });
});

describe('ADDTO and REMOVEFROM', () => {
  it('writes position and set pairs, or nothing', () => {
    const s = (b: Buffer) => b.toString('utf8');
    expect(s(contextUpdateResponse('a', true, 'ADDTO', [{ position: 0, set: '4:5,9' }]))).toBe('* ESEARCH (TAG "a") UID ADDTO (0 4:5,9)\r\n');
    expect(s(contextUpdateResponse('b"c', false, 'REMOVEFROM', [{ position: 3, set: '7' }, { position: 1, set: '2' }]))).toBe(
      '* ESEARCH (TAG "b\\"c") REMOVEFROM (3 7 1 2)\r\n',
    );
    expect(contextUpdateResponse('a', false, 'ADDTO', []).length).toBe(0);
  });
});
