import { describe, expect, it } from 'vitest';
import { scanNino } from './nino.js';

describe('UK NINO', () => {
  it.each([
    ['compact', 'no AB123456C here', 'AB123456C', 'medium'],
    ['in pairs', 'no JG 10 37 24 D here', 'JG 10 37 24 D', 'medium'],
    ['with a keyword', 'National Insurance number: AB123456C', 'AB123456C', 'high'],
    ['with "NI number"', 'NI number AB 12 34 56 A', 'AB 12 34 56 A', 'high'],
  ])('finds %s', (_name, text, value, confidence) => {
    const hits = scanNino(text);
    expect(hits.map((h) => [text.slice(h.index, h.index + h.length), h.confidence])).toEqual([[value, confidence]]);
    expect(hits[0]?.value).toBe(value.replaceAll(' ', ''));
  });

  it.each([
    ['first letter D', 'DA123456C'],
    ['first letter Q', 'QA123456C'],
    ['second letter O', 'AO123456C'],
    ['second letter V', 'AV123456C'],
    ['prefix GB', 'GB123456C'],
    ['prefix ZZ', 'ZZ123456C'],
    ['prefix TN', 'TN123456C'],
    ['suffix E', 'AB123456E'],
    ['seven digits', 'AB1234567C'],
    ['inside a word', 'XAB123456C'],
    ['a postcode and a number', 'SW1A 1AA 123456'],
  ])('ignores %s', (_name, text) => {
    expect(scanNino(`ref ${text} end`)).toEqual([]);
  });
});
