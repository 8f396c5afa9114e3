import { describe, expect, it } from 'vitest';
import { scanSsn, validSsn } from './ssn.js';

describe('US SSN', () => {
  it.each([
    ['dashes', 'id 536-22-8726 ok', '536-22-8726', 'medium'],
    ['spaces', 'id 536 22 8726 ok', '536 22 8726', 'medium'],
    ['bare', 'id 536228726 ok', '536228726', 'low'],
    ['with SSN nearby', 'SSN: 536-22-8726', '536-22-8726', 'high'],
    ['in a table, dashed, before a year', '536-22-8726 1985', '536-22-8726', 'medium'],
    ['with social security nearby', 'my social security number is 536228726', '536228726', 'high'],
  ])('finds %s', (_name, text, value, confidence) => {
    const hits = scanSsn(text);
    expect(hits.map((h) => [text.slice(h.index, h.index + h.length), h.confidence])).toEqual([[value, confidence]]);
    expect(hits[0]?.value).toBe(value.replace(/\D/g, ''));
  });

  it.each([
    ['an ISO date', 'on 2024-05-06'],
    ['a US date', 'on 05-06-2024'],
    ['a phone number', 'call 555-123-4567 or (555) 123-4567'],
    ['a ZIP+4', 'Springfield, IL 62704-1234'],
    ['area 000', 'SSN 000-12-3456'],
    ['area 666', 'SSN 666-12-3456'],
    ['area 9xx', 'SSN 912-12-3456'],
    ['group 00', 'SSN 536-00-8726'],
    ['serial 0000', 'SSN 536-22-0000'],
    ['the Woolworth wallet number', 'SSN 078-05-1120'],
    ['the Social Security card sample', 'SSN 219-09-9999'],
    ['a longer digit run', 'id 5362287261'],
    ['a longer dashed run', 'part 12-536-22-8726 or 536-22-8726-1'],
    ['mixed separators', 'id 536-22 8726'],
    ['spaced, inside a longer spaced number', 'tel 0049 536 22 8726 or 536 22 8726 12'],
    ['bare, after another number', 'tel 0049 536228726'],
    ['a decimal', 'total 536228726.50'],
    ['inside a code', 'ref ID536228726 or 536-22-8726a'],
  ])('ignores %s', (_name, text) => {
    expect(scanSsn(text)).toEqual([]);
  });

  it('validates ranges', () => {
    expect(validSsn('536228726')).toBe(true);
    expect(validSsn('111111111')).toBe(false);
  });
});
