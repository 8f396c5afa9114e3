import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mailtoAddress, parseDkimKey, parseDmarc, parseMtaSts, parseTagList, parseTlsRpt } from './tags.js';
import { parseSpf } from './spf.js';

describe('parseDmarc', () => {
  it('reads the record postern publishes', () => {
    expect(parseDmarc('v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.org; adkim=s; aspf=s')).toEqual({
      ok: true,
      value: { p: 'quarantine', sp: null, rua: ['mailto:dmarc-reports@example.org'], pct: 100 },
    });
    expect(parseDmarc('v=DMARC1;p=reject;sp=none;pct=50;rua=mailto:a@x.org!10m, MAILTO:b@y.org')).toEqual({
      ok: true,
      value: { p: 'reject', sp: 'none', rua: ['mailto:a@x.org', 'mailto:b@y.org'], pct: 50 },
    });
  });

  it.each([
    ['p=reject; v=DMARC1', /start with v=DMARC1/],
    ['v=DMARC2; p=reject', /expected DMARC1/],
    ['v=DMARC1; rua=mailto:a@x.org', /no p=/],
    ['v=DMARC1; p=maybe', /not none, quarantine or reject/],
    ['v=DMARC1; p=none; pct=101', /0\.\.100/],
    ['v=DMARC1; p=none; rua=https://x.org/r', /not a mailto/],
    ['v=DMARC1; p=none; p=reject', /twice/],
    ['v=DMARC1; p', /not tag=value/],
  ])('refuses %j', (text, problem) => {
    const r = parseDmarc(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });
});

describe('parseTlsRpt, parseMtaSts, parseDkimKey', () => {
  it('reads what postern publishes and refuses what senders would ignore', () => {
    expect(parseTlsRpt('v=TLSRPTv1; rua=mailto:tls-reports@example.org')).toEqual({ ok: true, value: { rua: ['mailto:tls-reports@example.org'] } });
    expect(parseTlsRpt('v=TLSRPTv1; rua=https://r.example.org/v1,mailto:x@y.org').ok).toBe(true);
    expect(parseTlsRpt('v=TLSRPTv1;').ok).toBe(false);
    expect(parseTlsRpt('v=TLSRPTv1; rua=ftp://x').ok).toBe(false);
    expect(parseMtaSts('v=STSv1; id=53489ece145c54a18e5e')).toEqual({ ok: true, value: { id: '53489ece145c54a18e5e' } });
    expect(parseMtaSts('v=STSv1; id=not-alnum').ok).toBe(false);
    expect(parseMtaSts('v=STSv1').ok).toBe(false);
    expect(parseDkimKey('v=DKIM1; k=rsa; p=MIIB AAAB\tCD')).toEqual({ ok: true, value: { p: 'MIIBAAABCD', k: 'rsa' } });
    expect(parseDkimKey('p=abc')).toEqual({ ok: true, value: { p: 'abc', k: 'rsa' } });
    expect(parseDkimKey('k=rsa; v=DKIM1; p=abc').ok).toBe(false);
  });

  it('reads the address of a mailto: URI', () => {
    expect(mailtoAddress('mailto:DMARC%2Breports@Example.org')).toBe('dmarc+reports@example.org');
    expect(mailtoAddress('mailto:a@b.org?subject=x')).toBe('a@b.org');
    expect(mailtoAddress('https://x.org')).toBeNull();
    expect(mailtoAddress('mailto:nobody')).toBeNull();
    expect(mailtoAddress('mailto:%E0%A4%A@x.org')).toBe('%e0%a4%a@x.org');
  });
});

describe('the parsers', () => {
  // Published records are untrusted: whatever DNS returns, a parser answers with a value or a problem.
  const tagLike = fc.array(fc.oneof(fc.constantFrom('v=DMARC1', 'v=TLSRPTv1', 'v=STSv1', 'v=spf1', 'p=', 'rua=mailto:', 'id=', ';', ' ', '=', ',', ':', '/', '!', 'include:', 'ip4:', 'ip6:', '//'), fc.string({ maxLength: 12 })), { maxLength: 30 }).map((a) => a.join(''));
  const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300, unit: 'binary' }), tagLike);

  it('never throw and always say why they refuse', () => {
    fc.assert(
      fc.property(text, (t) => {
        for (const parse of [parseDmarc, parseTlsRpt, parseMtaSts, parseDkimKey, parseSpf]) {
          const r = parse(t);
          if (!r.ok) expect(r.problem.length).toBeGreaterThan(0);
        }
        const tags = parseTagList(t);
        expect('problem' in tags || tags.tags instanceof Map).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuse a record longer than any real one without reading it', () => {
    const long = `v=DMARC1; p=reject; rua=${'mailto:a@b.org,'.repeat(1000)}`;
    expect(parseDmarc(long)).toMatchObject({ ok: false, problem: /longer than/ });
    expect(parseSpf(`v=spf1 ${'a '.repeat(5000)}`)).toMatchObject({ ok: false, problem: /longer than/ });
  });
});
