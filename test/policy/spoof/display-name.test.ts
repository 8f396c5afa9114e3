import { describe, expect, it } from 'vitest';
import { basicHeaders, inbound, message, results, run } from './helpers.js';

const check = (from: string) => results(run(message(basicHeaders(from)), inbound('x@freemail.example'), undefined, 'display-name'));

describe('display-name', () => {
  it('flags the name of one of our people on an outside address', () => {
    expect(check('Jane Doe <jane.doe@freemail.example>')).toEqual(['display-name=impersonation']);
    expect(check('"Doe, Jane" <jd1970@freemail.example>')).toEqual(['display-name=impersonation']);
    expect(check('"JANE   doe" <jd@freemail.example>')).toEqual(['display-name=impersonation']);
    expect(check('Jurgen Muller <jm@freemail.example>')).toEqual(['display-name=impersonation']);
    expect(check('=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@freemail.example>')).toEqual(['display-name=impersonation']);
    // A Cyrillic "а" in the name.
    expect(check('Jаne Doe <jd@freemail.example>')).toEqual(['display-name=impersonation']);
  });

  it('flags a name that shows one of our addresses', () => {
    expect(check('"ceo@example.test" <boss1@freemail.example>')).toEqual(['display-name=embedded-address']);
  });

  it('does not flag other names, the real address, or mail from inside', () => {
    expect(check('Janet Doerr <jd@freemail.example>')).toEqual([]);
    expect(check('"jane.doe@example.test" <jane.doe@example.test>')).toEqual([]);
    expect(check('"support@vendor.test" <support@vendor.test>')).toEqual([]);
    const raw = message(basicHeaders('Jane Doe <jane.private@freemail.example>'));
    expect(run(raw, inbound('x@freemail.example', { listener: 'submission', authUser: 'jane.doe@example.test' }), undefined, 'display-name')).toEqual([]);
  });
});
