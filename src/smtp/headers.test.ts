import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHeaderSection, looseAddresses, MAX_AUTHOR_FIELD, tlsRequiredNoAsked, unownedAuthors, unownedInField } from './headers.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const mine = new Set(['alice@example.test', 'alice.alias@example.test']);

describe('checkHeaderSection', () => {
  it('accepts a normal message and a header-only one', () => {
    expect(checkHeaderSection(b('From: a@x.test\r\nSubject: s\r\n\r\nbody\r\n')).ok).toBe(true);
    expect(checkHeaderSection(b('From: a@x.test\r\nSubject: folded\r\n  more\r\n')).ok).toBe(true);
  });

  it('refuses lines that are not fields, orphan continuations, and messages without header', () => {
    expect(checkHeaderSection(b('From: a@x.test\r\nnot a field\r\n\r\nbody'))).toEqual({ ok: false, reason: 'header-no-colon' });
    expect(checkHeaderSection(b(' orphan\r\nFrom: a@x.test\r\n\r\n'))).toEqual({ ok: false, reason: 'header-orphan-continuation' });
    expect(checkHeaderSection(b('Bad Name: x\r\n\r\n'))).toEqual({ ok: false, reason: 'header-bad-name' });
    expect(checkHeaderSection(b('\r\nbody only\r\n'))).toEqual({ ok: false, reason: 'no-header' });
    expect(checkHeaderSection(b(''))).toEqual({ ok: false, reason: 'no-header' });
  });
});

describe('From ownership', () => {
  it('accepts own addresses in the usual forms', () => {
    for (const v of ['alice@example.test', 'Alice <alice@example.test>', '"Alice, A." <ALICE@Example.Test>', 'alice.alias@example.test (Alice)', '=?utf-8?q?Al=C3=AFce?= <alice@example.test>']) {
      expect(unownedInField(v, mine), v).toEqual([]);
    }
  });

  it('reports every address that is not owned, however it is hidden', () => {
    expect(unownedInField('bob@example.test', mine)).toEqual(['bob@example.test']);
    expect(unownedInField('alice@example.test, bob@example.test', mine)).toContain('bob@example.test');
    expect(unownedInField('<alice@example.test> boss@bank.test', mine)).toContain('boss@bank.test');
    expect(unownedInField('team: alice@example.test, x@y.test;', mine)).toEqual(['x@y.test']);
    expect(unownedInField('undisclosed-recipients:;', mine)).toHaveLength(1);
    expect(unownedInField('', mine)).toHaveLength(1);
  });

  it('needs exactly one From and checks Sender too', () => {
    const fields = (s: string) => {
      const r = checkHeaderSection(b(s));
      if (!r.ok) throw new Error(r.reason);
      return r.fields;
    };
    expect(unownedAuthors(fields('Subject: x\r\n\r\n'), mine)).toBe('missing');
    expect(unownedAuthors(fields('From: alice@example.test\r\nFrom: alice@example.test\r\n\r\n'), mine)).toBe('missing');
    expect(unownedAuthors(fields('from: alice@example.test\r\n\r\n'), mine)).toEqual([]);
    expect(unownedAuthors(fields('From: alice@example.test\r\nSender: bob@example.test\r\n\r\n'), mine)).toEqual(['bob@example.test']);
  });
});

// A regression to a backtracking scan takes minutes on these and fails on the test timeout.
const MB = 1024 * 1024;
const FAST = 20_000;

describe('hostile author fields', () => {
  it('finds the same bare addresses as the regex it replaces', () => {
    const old = (s: string) => s.match(/[^\s<>(),;:]+@[^\s<>(),;:]*/g) ?? [];
    const alphabet = fc.constantFrom('a', 'b', '@', '.', ' ', '\t', '<', '>', '(', ')', ',', ';', ':', '"', '\\', '\u00a0');
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 40 }).map((a) => a.join('')), (s) => {
      expect(looseAddresses(s)).toEqual(old(s));
    }), { numRuns: 2000 });
  });

  it('reads 1 MB values without "@", of "(" and of "a@" in linear time', { timeout: FAST }, () => {
    expect(unownedInField('a'.repeat(MB), mine)).toHaveLength(1);
    expect(unownedInField('('.repeat(MB), mine)).toHaveLength(1);
    expect(unownedInField(`<alice@example.test> (${'"x\\" '.repeat(MB / 5)})`, mine)).toEqual([]);
    expect(unownedInField(`alice@example.test ${'a@'.repeat(MB / 2)}`, mine).length).toBeGreaterThan(0);
  });

  it('still blanks quotes and comments, escapes included', () => {
    expect(unownedInField('"bob@example.test" <alice@example.test>', mine)).toEqual([]);
    expect(unownedInField('(bob@x.test (nested) \\) still) <alice@example.test>', mine)).toEqual([]);
    expect(unownedInField('alice@example.test (unclosed bob@x.test', mine)).toEqual([]);
    expect(unownedInField('alice@example.test) bob@x.test', mine)).toContain('bob@x.test');
  });

  it('refuses a From or Sender longer than MAX_AUTHOR_FIELD without reading it', { timeout: FAST }, () => {
    const long = `alice@example.test ${' '.repeat(MAX_AUTHOR_FIELD)}x`;
    const r = checkHeaderSection(b(`From: alice@example.test\r\nSender: ${long}\r\n\r\n`));
    if (!r.ok) throw new Error(r.reason);
    expect(unownedAuthors(r.fields, mine)).toBe('too-long');
  });

  it('checks a header of 170,000 lines without a colon, before a 1 MB body, in linear time', { timeout: FAST }, () => {
    expect(checkHeaderSection(b('a\r\n'.repeat(170_000) + '\r\n' + 'x'.repeat(MB)))).toEqual({ ok: false, reason: 'header-no-colon' });
    expect(checkHeaderSection(b('Subject: x\r\n' + 'a\r\n'.repeat(100_000) + 'b'.repeat(MB)))).toEqual({ ok: false, reason: 'header-too-large' });
  });
});

describe('tlsRequiredNoAsked', () => {
  const fields = (head: string) => {
    const r = checkHeaderSection(b(`${head}\r\n\r\nbody\r\n`));
    if (!r.ok) throw new Error(r.reason);
    return r.fields;
  };

  it('is set by a TLS-Required field saying No, in any case and with folding', () => {
    expect(tlsRequiredNoAsked(fields('From: a@x.test\r\nTLS-Required: No'))).toBe(true);
    expect(tlsRequiredNoAsked(fields('tls-required:no\r\nFrom: a@x.test'))).toBe(true);
    expect(tlsRequiredNoAsked(fields('From: a@x.test\r\nTLS-Required:\r\n  NO'))).toBe(true);
  });

  it('is not set without the field, by any other value, or by conflicting fields', () => {
    expect(tlsRequiredNoAsked(fields('From: a@x.test'))).toBe(false);
    expect(tlsRequiredNoAsked(fields('From: a@x.test\r\nTLS-Required: Yes'))).toBe(false);
    expect(tlsRequiredNoAsked(fields('From: a@x.test\r\nTLS-Required: No thanks'))).toBe(false);
    expect(tlsRequiredNoAsked(fields('From: a@x.test\r\nTLS-Required:'))).toBe(false);
    expect(tlsRequiredNoAsked(fields('TLS-Required: No\r\nTLS-Required: Yes'))).toBe(false);
    expect(tlsRequiredNoAsked(fields('X-TLS-Required: No'))).toBe(false);
  });
});
