import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsedPlain, plainAddresses, plainShortcut } from './plain-address.js';

const atext = fc.constantFrom(...'aZ09!#$%&\'*+/=?^_`{|}~-'.split(''));
const nameText = fc.constantFrom(...'aZ09!#$%&\'*+/^_`{|}~-'.split(''));
const word = (chars: fc.Arbitrary<string>) => fc.array(chars, { minLength: 1, maxLength: 6 }).map((a) => a.join(''));
const dotAtom = fc.array(word(atext), { minLength: 1, maxLength: 3 }).map((a) => a.join('.'));
const address = fc.tuple(dotAtom, dotAtom).map(([l, d]) => `${l}@${d}`);
const mailbox = fc.oneof(
  address,
  address.map((a) => `<${a}>`),
  fc.tuple(fc.array(word(nameText), { minLength: 1, maxLength: 4 }), address).map(([w, a]) => `${w.join(' ')} <${a}>`),
);

describe('plainAddresses', () => {
  it('gives the plain form of the common ways of writing a mailbox', () => {
    expect(plainAddresses('Sender 788 <sender788@remote.test>')).toBe('Sender 788 <sender788@remote.test>');
    expect(plainAddresses('bench@bench.test')).toBe('<bench@bench.test>');
    expect(plainAddresses('a@b.c, Joe <joe@x.org>, <z@y.org>')).toBe('<a@b.c>, Joe <joe@x.org>, <z@y.org>');
  });

  it('leaves to the parser what the shortcut does not recognise', () => {
    for (const v of ['joe@x.org (Joe)', '"Smith, Ann" <ann@y.org>', 'John Q. Public <jqp@example.com>', '=?utf-8?q?J=C3=B6rg?= <j@x.org>', 'a@b.c,d@e.f', 'A  B <a@b.c>', 'x @ y', 'g: a@b.c;', '']) {
      expect(plainShortcut(v)).toBeNull();
    }
    expect(plainAddresses('=?utf-8?q?J=C3=B6rg?= <j@x.org>')).toBe('Jörg <j@x.org>');
    expect(plainAddresses('joe@x.org (Joe)')).toBe('Joe <joe@x.org>');
  });

  it('takes the shortcut for lists of simple mailboxes, and it agrees with the parser', () => {
    fc.assert(
      fc.property(fc.array(mailbox, { minLength: 1, maxLength: 4 }), (list) => {
        const v = list.join(', ');
        expect(plainShortcut(v)).toBe(parsedPlain(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the parser whenever it answers, on any string of address characters', () => {
    const piece = fc.constantFrom('a', 'Z', '9', '=', '?', '.', '@', '<', '>', ',', ', ', ' ', '  ', '\t', '(', ')', '"', '\\', ':', ';', '[', ']', '=?utf-8?q?x?=', 'é');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const v = pieces.join('');
        const fast = plainShortcut(v);
        if (fast !== null) expect(fast).toBe(parsedPlain(v));
      }),
      { numRuns: 5000 },
    );
  });

  it('sends very long values to the parser', () => {
    const long = Array.from({ length: 200 }, (_, i) => `User ${i} <u${i}@example.org>`).join(', ');
    expect(long.length).toBeGreaterThan(2048);
    expect(plainShortcut(long)).toBeNull();
    expect(plainAddresses(long)).toBe(long);
  });
});
