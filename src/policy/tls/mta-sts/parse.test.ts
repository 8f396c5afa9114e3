import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mxAllowed, mxMatches, parseStsPolicy, parseStsTxt } from './parse.js';

describe('parseStsTxt', () => {
  it('reads the id of the one STSv1 record', () => {
    expect(parseStsTxt(['v=STSv1; id=20160831085700Z;'])).toEqual({ id: '20160831085700Z' });
    expect(parseStsTxt(['v=spf1 -all', 'v=STSv1;id=abc'])).toEqual({ id: 'abc' });
  });
  it('refuses two records, a missing or bad id, and other versions', () => {
    expect(parseStsTxt(['v=STSv1; id=a', 'v=STSv1; id=b'])).toBeNull();
    expect(parseStsTxt(['v=STSv1;'])).toBeNull();
    expect(parseStsTxt(['v=STSv1; id=has-dash'])).toBeNull();
    expect(parseStsTxt(['v=STSv1; id=' + 'a'.repeat(33)])).toBeNull();
    expect(parseStsTxt(['v=STSv10; id=abc'])).toBeNull();
    expect(parseStsTxt([])).toBeNull();
  });
});

describe('parseStsPolicy', () => {
  it('parses the example of RFC 8461 with CRLF or LF', () => {
    const text = 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n';
    const r = parseStsPolicy(text);
    expect(r).toEqual({
      ok: true,
      policy: {
        mode: 'enforce',
        mx: ['mail.example.com', '*.example.net', 'backupmx.example.com'],
        maxAge: 604800,
        lines: ['version: STSv1', 'mode: enforce', 'mx: mail.example.com', 'mx: *.example.net', 'mx: backupmx.example.com', 'max_age: 604800'],
      },
    });
    expect(parseStsPolicy(text.replace(/\r\n/g, '\n')).ok).toBe(true);
  });
  it('refuses what is missing or malformed', () => {
    expect(parseStsPolicy('version: STSv1\nmode: enforce\nmax_age: 10\n')).toMatchObject({ ok: false, error: 'no mx pattern' });
    expect(parseStsPolicy('version: STSv1\nmode: enforce\nmx: a.test\n')).toMatchObject({ ok: false, error: 'max_age missing' });
    expect(parseStsPolicy('version: STSv1\nmode: strict\nmx: a.test\nmax_age: 1\n')).toMatchObject({ ok: false });
    expect(parseStsPolicy('version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 99999999999\n')).toMatchObject({ ok: false });
    expect(parseStsPolicy('<html>not a policy</html>')).toMatchObject({ ok: false });
    expect(parseStsPolicy('version: STSv1\nmode: none\nmax_age: 86400\n')).toMatchObject({ ok: true, policy: { mode: 'none', mx: [] } });
  });
  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string(), (s) => typeof parseStsPolicy(s).ok === 'boolean'));
  });
});

describe('mx patterns', () => {
  it('match exactly, or one leftmost label for a wildcard', () => {
    expect(mxMatches('mail.example.com', 'MAIL.example.com.')).toBe(true);
    expect(mxMatches('*.example.net', 'mx1.example.net')).toBe(true);
    expect(mxMatches('*.example.net', 'a.b.example.net')).toBe(false);
    expect(mxMatches('*.example.net', 'example.net')).toBe(false);
    expect(mxMatches('mail.example.com', 'evilmail.example.com')).toBe(false);
    const p = parseStsPolicy('version: STSv1\nmode: enforce\nmx: *.dest.test\nmax_age: 60\n');
    expect(p.ok && mxAllowed(p.policy, 'mx1.dest.test')).toBe(true);
    expect(p.ok && mxAllowed(p.policy, 'mx1.attacker.test')).toBe(false);
  });
});
