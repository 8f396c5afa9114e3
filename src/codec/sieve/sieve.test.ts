import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSieve, runSieve, checkSieve, SIEVE_LIMITS } from './index.js';
import { wildcard } from './match.js';
import { corpus } from '../mime/testing/corpus.js';

const ENV = { from: 'hello@example.com', to: 'bob@example.com' };
const bilingual = corpus('flanker-bilingual-simple.eml');
const encoded = corpus('flanker-encoded-header.eml');

const run = (script: string, raw = bilingual, env = ENV, now?: Date) => {
  const r = runSieve(script, raw, env, now);
  if (!r.ok) throw new Error(`line ${r.line}: ${r.error}`);
  return r.actions;
};

describe('sieve parser', () => {
  it.each([
    ['keep;', 1],
    ['# comment\nkeep; /* bracket\n comment */ discard;', 2],
    ['if true { keep; } elsif false { discard; } else { stop; }', 3],
    ['require ["fileinto", "copy"];\nfileinto :copy "A";', 2],
    ['if size :over 100K { discard; }', 1],
    ['vacation text:\nline one\n..dot\n.\n;', 1],
  ])('parses %j', (src, n) => {
    const r = parseSieve(src);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.commands).toHaveLength(n);
  });

  it('reads numbers with K/M/G, strings with escapes and multi-line text with dot-stuffing', () => {
    const r = parseSieve('x 1K 2m 3G "a\\"b\\\\c" text: # note\r\nfirst\r\n..second\r\n.\r\n;');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.commands[0]!.args).toEqual([
      { kind: 'number', value: 1024 },
      { kind: 'number', value: 2 * 1024 ** 2 },
      { kind: 'number', value: 3 * 1024 ** 3 },
      { kind: 'strings', values: ['a"b\\c'], list: false },
      { kind: 'strings', values: ['first\r\n.second\r\n'], list: false },
    ]);
  });

  it.each([
    ['keep', 'expected ";" or "{"'],
    ['"a" ;', 'expected a command'],
    ['if true { keep;', 'missing "}"'],
    ['keep; }', 'unexpected "}"'],
    ['x "abc', 'unterminated string'],
    ['/* open', 'unterminated bracket comment'],
    ['x [ ];', 'expected a string in the list'],
    ['x : ;', 'bad tag'],
    ['x 99999999999;', 'number too large'],
    ['x text:\nno end', 'unterminated text'],
    ['x @;', 'unexpected character'],
  ])('refuses %j', (src, err) => {
    const r = parseSieve(src);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(err);
  });

  it('refuses scripts over the size limit and nesting over the depth limit', () => {
    expect(parseSieve('#'.repeat(SIEVE_LIMITS.maxScriptBytes + 1))).toMatchObject({ ok: false });
    const deep = 'if true {'.repeat(SIEVE_LIMITS.maxDepth + 1) + '}'.repeat(SIEVE_LIMITS.maxDepth + 1);
    expect(parseSieve(deep)).toMatchObject({ ok: false, error: 'nesting too deep' });
    expect(parseSieve('if ' + 'not '.repeat(10_000) + 'true {}')).toMatchObject({ ok: false, error: 'nesting too deep' });
  });

  it('checks require and command names before running', () => {
    expect(checkSieve('fileinto "x";')).toMatchObject({ ok: false, error: '"fileinto" needs require "fileinto"' });
    expect(checkSieve('require "nonsense";')).toMatchObject({ ok: false, error: 'unsupported extension "nonsense"' });
    expect(checkSieve('keep; require "fileinto";')).toMatchObject({ ok: false, error: 'require must come first' });
    expect(checkSieve('frobnicate;')).toMatchObject({ ok: false });
    expect(checkSieve('else { keep; }')).toMatchObject({ ok: false, error: 'else without if' });
    expect(checkSieve('require "fileinto"; fileinto :copy "x";')).toMatchObject({ ok: false, error: ':copy needs require "copy"' });
    expect(checkSieve('require ["fileinto","copy","imap4flags","variables","relational","body","date","vacation","envelope","reject","ereject"]; keep;')).toEqual({ ok: true });
  });

  it('never throws on arbitrary input, and returns quickly', () => {
    const alphabet = fc.constantFrom(...'if{}[]();,:"\\#/*\n text:.123KMG allof not header :matches "*" require fileinto'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(alphabet, { maxLength: 400 }).map((a) => a.join(''))), (src) => {
        const r = runSieve(src, bilingual, ENV, new Date(0));
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('sieve :matches', () => {
  it('captures each wildcard, shortest first', () => {
    expect(wildcard('abcXdefXghi', '*X*', 'i;octet', { steps: 1e6 })).toEqual(['abc', 'defXghi']);
    expect(wildcard('Hello World', 'h?llo *', 'i;ascii-casemap', { steps: 1e6 })).toEqual(['e', 'World']);
    expect(wildcard('a*b', 'a\\*b', 'i;octet', { steps: 1e6 })).toEqual([]);
    expect(wildcard('ab', 'a\\*b', 'i;octet', { steps: 1e6 })).toBeNull();
  });

  it('a hostile pattern against a long text ends within its step budget', () => {
    const budget = { steps: 100_000 };
    expect(wildcard('a'.repeat(60_000), '*a*a*a*a*a*a*a*a*b', 'i;octet', budget)).toBeNull();
    // the two-pointer walk needs about one step per character here, not a backtracking explosion
    expect(budget.steps).toBeGreaterThan(0);
    const tight = { steps: 1000 };
    expect(wildcard('a'.repeat(60_000), '*a*b', 'i;octet', tight)).toBeNull();
    expect(tight.steps).toBeLessThan(0);
    const r = runSieve(`if header :matches "x" "${'*a'.repeat(200)}b" { discard; }`, Buffer.from(`X: ${'a'.repeat(20_000)}\r\n\r\n`), ENV);
    expect(r).toEqual({ ok: true, actions: [{ type: 'keep', flags: [] }] });
  });
});

describe('sieve interpreter on corpus messages', () => {
  it('keeps by default (implicit keep)', () => {
    expect(run('')).toEqual([{ type: 'keep', flags: [] }]);
  });

  it('files by header, address parts and envelope, and stops', () => {
    const s = `require ["fileinto", "envelope"];
      if address :domain "from" "EXAMPLE.com" { fileinto "Domain"; }
      if address :localpart :is "to" "bob" { fileinto "Local"; }
      if envelope :all :is "from" "hello@example.com" { fileinto "Env"; stop; }
      fileinto "Never";`;
    expect(run(s)).toEqual([
      { type: 'fileinto', folder: 'Domain', flags: [] },
      { type: 'fileinto', folder: 'Local', flags: [] },
      { type: 'fileinto', folder: 'Env', flags: [] },
    ]);
  });

  it('decodes RFC 2047 subjects and matches :contains case-insensitively, :is with i;octet exactly', () => {
    expect(run('if header :contains "subject" "how are YOU" { discard; }')).toEqual([{ type: 'discard' }]);
    expect(run('if header :comparator "i;octet" :contains "subject" "how are YOU" { discard; }')).toEqual([{ type: 'keep', flags: [] }]);
    expect(run('require "fileinto"; if address :is "from" "foo.bar@example.com" { fileinto "Foo"; }', encoded)).toEqual([{ type: 'fileinto', folder: 'Foo', flags: [] }]);
  });

  it('exists, size, allof/anyof/not', () => {
    expect(run('if allof(exists ["From","To"], not exists "X-Nope", size :over 1K, size :under 1M) { discard; }')).toEqual([{ type: 'discard' }]);
    expect(run('if anyof(false, header :is "x-nope" "") { discard; }')).toEqual([{ type: 'keep', flags: [] }]);
  });

  it('variables: set with modifiers and match variables', () => {
    const s = `require ["variables", "fileinto"];
      set :upper "who" "lists";
      set :length "n" "four";
      if header :matches "from" "* <*@*>" { fileinto "\${who}/\${3}/\${2}/\${n}"; }`;
    expect(run(s)).toEqual([{ type: 'fileinto', folder: 'LISTS/example.com/hello/4', flags: [] }]);
  });

  it('imap4flags: setflag/addflag/removeflag, hasflag, :flags, and the implicit keep takes the flags', () => {
    const s = `require ["imap4flags", "fileinto", "copy"];
      setflag "\\\\Seen";
      addflag ["\\\\Flagged", "work"];
      removeflag "\\\\seen";
      if hasflag "work" { fileinto :copy :flags "urgent" "Work"; }`;
    expect(run(s)).toEqual([
      { type: 'keep', flags: ['\\Flagged', 'work'] },
      { type: 'fileinto', folder: 'Work', flags: ['urgent'] },
    ]);
  });

  it('copy keeps the implicit keep; redirect is bounded', () => {
    expect(run('require ["copy"]; redirect :copy "a@b.test";')).toEqual([{ type: 'keep', flags: [] }, { type: 'redirect', address: 'a@b.test' }]);
    expect(run('redirect "a@b.test";')).toEqual([{ type: 'redirect', address: 'a@b.test' }]);
    expect(runSieve('redirect "a@b.test"; redirect "c@b.test"; redirect "d@b.test"; redirect "e@b.test"; redirect "f@b.test";', bilingual, ENV)).toMatchObject({ ok: false, error: 'too many redirects' });
    expect(runSieve('redirect "not an address";', bilingual, ENV)).toMatchObject({ ok: false });
  });

  it('relational :count and :value with i;ascii-numeric', () => {
    expect(run('require "relational"; if header :count "ge" "received" "4" { discard; }')).toEqual([{ type: 'discard' }]);
    expect(run('require ["relational", "comparator-i;ascii-numeric"]; if header :value "gt" :comparator "i;ascii-numeric" "x-n" "9" { discard; }', Buffer.from('X-N: 10\r\n\r\n'))).toEqual([{ type: 'discard' }]);
    // as text "10" < "9"
    expect(run('require "relational"; if header :value "gt" "x-n" "9" { discard; }', Buffer.from('X-N: 10\r\n\r\n'))).toEqual([{ type: 'keep', flags: [] }]);
  });

  it('body :text decodes quoted-printable; :raw sees the encoded bytes; :content picks parts', () => {
    expect(run('require "body"; if body :contains "эта линия" { discard; }')).toEqual([{ type: 'discard' }]);
    expect(run('require "body"; if body :raw :contains "=D0=90" { discard; }')).toEqual([{ type: 'discard' }]);
    expect(run('require "body"; if body :content "text/html" :contains "English" { discard; }')).toEqual([{ type: 'keep', flags: [] }]);
  });

  it('date and currentdate with :zone and :originalzone', () => {
    expect(run('require "date"; if date :originalzone "date" "zone" "-0800" { discard; }')).toEqual([{ type: 'discard' }]);
    expect(run('require "date"; if date :zone "+0000" "date" "iso8601" "2010-02-07T22:02:38Z" { discard; }')).toEqual([{ type: 'discard' }]);
    expect(run('require "date"; if date :originalzone "date" "hour" "14" { discard; }')).toEqual([{ type: 'discard' }]);
    const now = new Date(Date.UTC(2026, 11, 24, 23, 30));
    expect(run('require ["date","relational"]; if allof(currentdate :zone "+0100" "date" "2026-12-25", currentdate :value "ge" "julian" "61398") { discard; }', bilingual, ENV, now)).toEqual([{ type: 'discard' }]);
  });

  it('reject, ereject and vacation', () => {
    expect(run('require "reject"; reject "no thanks";')).toEqual([{ type: 'reject', reason: 'no thanks', ereject: false }]);
    expect(runSieve('require ["reject","fileinto"]; fileinto "x"; reject "no";', bilingual, ENV)).toMatchObject({ ok: false });
    const v = run('require "vacation"; vacation :days 3 :subject "Away" :handle "h1" :addresses ["b@x.test"] "Back soon";');
    expect(v).toEqual([
      { type: 'keep', flags: [] },
      { type: 'vacation', reason: 'Back soon', days: 3, subject: 'Away', from: null, addresses: ['b@x.test'], mime: false, handle: 'h1' },
    ]);
  });

  it('a runaway number of actions is an error, not a huge result', () => {
    const s = 'require "fileinto";\n' + 'fileinto :copy "x";'.replace(':copy ', '').repeat(100);
    expect(runSieve(s, bilingual, ENV)).toMatchObject({ ok: false, error: 'too many actions' });
  });
});
