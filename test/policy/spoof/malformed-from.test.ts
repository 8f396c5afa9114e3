import { describe, expect, it } from 'vitest';
import { basicHeaders, inbound, message, results, run } from './helpers.js';

const check = (headers: string[]) => results(run(message(headers), inbound('x@vendor.test'), undefined, 'malformed-from'));
const rest = ['To: a@example.test', 'Subject: s', 'Date: Thu, 03 Dec 2026 10:00:00 +0000'];

describe('malformed-from', () => {
  it('accepts a plain From, and several mailboxes with a Sender', () => {
    expect(check(basicHeaders('Jim <jim@vendor.test>'))).toEqual([]);
    expect(check([...rest, 'From: a@vendor.test, b@vendor.test', 'Sender: a@vendor.test'])).toEqual([]);
    expect(check(basicHeaders('=?utf-8?q?Ji=C5=99=C3=AD?= <jiri@vendor.test>'))).toEqual([]);
  });

  it('flags a missing From and two From fields', () => {
    expect(check(rest)).toEqual(['malformed-from=no-from']);
    expect(check([...rest, 'From: a@vendor.test', 'From: ceo@example.test'])).toEqual(['malformed-from=multiple-from', 'malformed-from=multiple-mailboxes']);
  });

  it('flags several mailboxes without Sender and an unparseable From', () => {
    expect(check([...rest, 'From: a@vendor.test, ceo@example.test'])).toEqual(['malformed-from=multiple-mailboxes']);
    expect(check([...rest, 'From: just some words'])).toEqual(['malformed-from=unparseable']);
    expect(check([...rest, 'From:'])).toEqual(['malformed-from=unparseable']);
    expect(check([...rest, 'From: undisclosed:;'])).toEqual(['malformed-from=unparseable']);
  });

  it('flags an oversized From and Sender', () => {
    expect(check(basicHeaders(`"${'a'.repeat(1200)}" <a@vendor.test>`))).toEqual(['malformed-from=oversized']);
    const folded = Array.from({ length: 300 }, (_, i) => `u${i}@vendor.test`).join(',\r\n ');
    expect(check([...rest, `From: a@vendor.test`, `Sender: ${folded}`])).toEqual(['malformed-from=oversized']);
  });

  it('flags control and bidi characters in the name', () => {
    expect(check(basicHeaders('"Jim\u0000Bob" <jim@vendor.test>'))).toEqual(['malformed-from=control-chars']);
    expect(check(basicHeaders('"\u202Emoc.elpmaxe@oec" <jim@vendor.test>'))).toEqual(['malformed-from=control-chars']);
    expect(check(basicHeaders('=?utf-8?q?Jim=07?= <jim@vendor.test>'))).toEqual(['malformed-from=control-chars']);
  });

  it('flags an address hidden in an encoded-word', () => {
    const hidden = `=?utf-8?b?${Buffer.from('ceo@example.test').toString('base64')}?=`;
    expect(check(basicHeaders(`${hidden} <attacker@evil.test>`))).toEqual(['malformed-from=encoded-address']);
    // The name may spell out the real address.
    expect(check(basicHeaders(`${hidden} <CEO@example.test>`))).toEqual([]);
  });

  it('flags duplicated single-instance fields', () => {
    const f = run(message([...basicHeaders('jim@vendor.test'), 'Subject: second', 'Reply-To: a@vendor.test', 'Reply-To: b@evil.test']), inbound('x@vendor.test'), undefined, 'malformed-from');
    expect(results(f)).toEqual(['malformed-from=duplicate-field']);
    expect(f[0]!.reasons[0]!.detail).toBe('reply-to, subject');
  });

  it('counts mail from inside as inside', () => {
    const f = run(message(rest), inbound('a@example.test', { listener: 'submission', authUser: 'a@example.test' }), undefined, 'malformed-from');
    expect(f[0]!.origin).toBe('inside');
  });
});
