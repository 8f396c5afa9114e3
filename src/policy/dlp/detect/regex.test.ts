import { describe, expect, it } from 'vitest';
import { compilePattern, regexScanner } from './regex.js';

function scanner(pattern: string, caseInsensitive = false) {
  const re = compilePattern({ pattern, caseInsensitive, confidence: 'high' });
  if (typeof re === 'string') throw new Error(re);
  return regexScanner(re, 'high');
}

describe('custom regexes', () => {
  it('finds matches with their offsets', () => {
    const text = 'see PRJ-1234-AB and prj-9999-zz, PRJ-12-AB';
    expect(scanner('PRJ-[0-9]{4}-[A-Z]{2}')(text)).toEqual([{ value: 'PRJ-1234-AB', index: 4, length: 11, confidence: 'high' }]);
    expect(scanner('PRJ-[0-9]{4}-[A-Z]{2}', true)(text).map((h) => h.value)).toEqual(['PRJ-1234-AB', 'prj-9999-zz']);
  });

  it('counts offsets in UTF-16 code units, as JavaScript strings do', () => {
    const text = '😀 é KEY-1';
    const [hit] = scanner('KEY-[0-9]')(text);
    expect(hit && text.slice(hit.index, hit.index + hit.length)).toBe('KEY-1');
  });

  it('anchors ^ and $ to the whole text unless (?m) asks for lines', () => {
    expect(scanner('^Ref: [0-9]+$')('x\nRef: 42\ny')).toEqual([]);
    expect(scanner('(?m)^Ref: [0-9]+$')('x\nRef: 42\ny').map((h) => h.value)).toEqual(['Ref: 42']);
  });

  it('skips empty matches', () => {
    expect(scanner('x*')('abxxc').map((h) => h.value)).toEqual(['xx']);
  });

  it.each([
    ['a syntax error', '(a', /missing closing \)/],
    ['a back-reference', '(a)\\1', /invalid escape/],
    ['a lookahead', '(?=a)b', /unsupported Perl syntax/],
    ['an empty pattern', '', /empty/],
    ['a pattern over 1,000 characters', 'a'.repeat(1001), /longer than 1000/],
  ])('refuses %s', (_name, pattern, why) => {
    expect(compilePattern({ pattern, caseInsensitive: false, confidence: 'low' })).toMatch(why);
  });

  it('runs patterns that are catastrophic for backtracking engines over 1 MB', () => {
    const text = `${'a'.repeat(1 << 20)}!`;
    expect(scanner('(a+)+$')(text)).toEqual([]);
    expect(scanner('(x+x+)+y')(text)).toEqual([]);
    expect(scanner('(a|aa)+!')(text)).toHaveLength(1);
  });

  it('caps the hits', () => {
    expect(scanner('a')('a'.repeat(5000))).toHaveLength(1000);
  });
});
