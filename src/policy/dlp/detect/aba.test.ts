import { describe, expect, it } from 'vitest';
import { scanAba, validAba } from './aba.js';

describe('ABA routing numbers', () => {
  it.each([
    ['alone', 'number 021000021 here', 'low'],
    ['with "routing"', 'Routing number: 011000015', 'high'],
    ['with "ABA"', 'ABA 122105155', 'high'],
    ['with "RTN"', 'RTN 322271627', 'high'],
  ])('finds %s', (_name, text, confidence) => {
    expect(scanAba(text).map((h) => h.confidence)).toEqual([confidence]);
  });

  it.each([
    ['a bad checksum', 'routing 021000022'],
    ['prefix 13', 'routing 131000021'],
    ['prefix 50', 'routing 501000020'],
    ['ten digits', 'routing 0210000210'],
    ['a dashed number', 'routing 12-021000021'],
    ['a decimal', 'routing 021000021.5'],
    ['inside a code', 'ref X021000021 or 021000021b'],
    ['one digit repeated', 'routing 000000000'],
  ])('ignores %s', (_name, text) => {
    expect(scanAba(text)).toEqual([]);
  });

  it('computes the 3-7-1 checksum', () => {
    expect(validAba('021000021')).toBe(true);
    expect(validAba('021000012')).toBe(false);
  });
});
