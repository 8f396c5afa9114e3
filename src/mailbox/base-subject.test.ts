import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { baseSubject, casemap, compareCodePoints, MAX_SUBJECT } from './base-subject.js';

describe('baseSubject (RFC 5256 section 2.1)', () => {
  it.each([
    ['Hello', 'Hello', false],
    ['Re: Hello', 'Hello', true],
    ['RE: re: Fwd: FW: hello', 'hello', true],
    ['Re[2]: hello', 'hello', true],
    ['Re [2]: hello', 'hello', true],
    ['[list] Re: hello', 'hello', true],
    ['[list] hello', 'hello', false],
    ['[list]', '[list]', false],
    ['[a][b] [c]', '[c]', false],
    ['Re: [list] Re: [other] hello', 'hello', true],
    ['hello (fwd)', 'hello', true],
    ['hello (FWD) (fwd)  ', 'hello', true],
    ['[Fwd: hello]', 'hello', true],
    ['[fwd: Re: [list] hello (fwd)]', 'hello', true],
    ['Fwd: [fwd: hello]', 'hello', true],
    ['  hello\t\r\n  world  ', 'hello world', false],
    ['Re:', '', true],
    ['', '', false],
    ['Reply: hi', 'Reply: hi', false],
    ['Fwdx: hi', 'Fwdx: hi', false],
    ['Re : hi', 'hi', true],
    ['[fwd: unclosed', '[fwd: unclosed', false],
    ['Re: Café', 'Café', true],
  ])('%j -> %j', (subject, base, reply) => {
    expect(baseSubject(subject)).toEqual({ base, isReplyOrForward: reply });
  });

  it('is idempotent and never longer than its input or MAX_SUBJECT', () => {
    const piece = fc.constantFrom('Re:', 're', 'Fwd:', 'fw', ':', '[', ']', '[x]', '(fwd)', ' ', '\t', 'a', 'B', 'é', '[fwd:', '\r\n ');
    fc.assert(
      fc.property(fc.oneof(fc.array(piece, { maxLength: 30 }).map((a) => a.join('')), fc.string({ maxLength: 60 })), (s) => {
        const once = baseSubject(s);
        expect(baseSubject(once.base).base).toBe(once.base);
        expect(once.base.length).toBeLessThanOrEqual(Math.min(s.length, MAX_SUBJECT));
      }),
      { numRuns: 2000 },
    );
  });

  it('handles a long hostile subject (only the first MAX_SUBJECT characters count)', () => {
    const base = baseSubject('[x]'.repeat(200_000) + 'tail');
    expect(base.base.length).toBeLessThanOrEqual(MAX_SUBJECT);
    expect(baseSubject('Re: '.repeat(100_000)).base).toBe('');
  });
});

describe('casemap and compareCodePoints', () => {
  it('folds case and composition', () => {
    expect(casemap('café')).toBe(casemap('CAFE\u0301'));
  });

  it('orders by code point, as UTF-8 octets do', () => {
    expect(compareCodePoints('\u{1F600}', '\uFFFD')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 8 }), (a, b) => {
        const octets = Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
        expect(Math.sign(compareCodePoints(a, b))).toBe(octets);
      }),
    );
  });
});
