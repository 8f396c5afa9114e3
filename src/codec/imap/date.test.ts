import { describe, expect, it } from 'vitest';
import { compareDay, formatImapDate, formatInternalDate, parseImapDate, parseImapDateTime } from './date.js';

describe('parseImapDate', () => {
  it.each([
    ['1-Feb-1994', { year: 1994, month: 2, day: 1 }],
    ['29-feb-2024', { year: 2024, month: 2, day: 29 }],
    ['31-DEC-1999', { year: 1999, month: 12, day: 31 }],
  ])('%s', (text, expected) => {
    expect(parseImapDate(text)).toEqual(expected);
  });

  it.each(['29-Feb-2023', '0-Jan-2000', '1-Foo-2000', '1-Feb-94', '001-Feb-1994', '1 Feb 1994', ''])('rejects %j', (text) => {
    expect(parseImapDate(text)).toBeNull();
  });

  it('formats date-text', () => {
    expect(formatImapDate({ year: 1994, month: 2, day: 1 })).toBe('1-Feb-1994');
  });
});

describe('parseImapDateTime', () => {
  it('reads the zone and converts to UTC', () => {
    const d = parseImapDateTime('17-Jul-1996 02:44:25 -0700');
    expect(d?.zoneMinutes).toBe(-420);
    expect(d?.date.toISOString()).toBe('1996-07-17T09:44:25.000Z');
  });

  it('accepts a space-padded day', () => {
    expect(parseImapDateTime(' 7-Jul-1996 02:44:25 +0130')?.date.toISOString()).toBe('1996-07-07T01:14:25.000Z');
  });

  it.each(['7-Jul-1996 02:44:25 -0700', '17-Jul-1996 24:00:00 +0000', '17-Jul-1996 02:44:25', '17-Jul-1996 02:44:25 +0060', '31-Apr-2020 00:00:00 +0000'])(
    'rejects %j',
    (text) => {
      expect(parseImapDateTime(text)).toBeNull();
    },
  );
});

describe('formatInternalDate', () => {
  it('writes two-digit days and the zone', () => {
    const d = new Date('1996-07-17T09:44:25Z');
    expect(formatInternalDate(d, -420)).toBe('17-Jul-1996 02:44:25 -0700');
    expect(formatInternalDate(new Date('2024-03-05T00:00:09Z'))).toBe('05-Mar-2024 00:00:09 +0000');
    expect(formatInternalDate(new Date('2024-03-05T23:30:00Z'), 90)).toBe('06-Mar-2024 01:00:00 +0130');
  });

  it('round-trips through parseImapDateTime', () => {
    const d = new Date('2001-12-31T23:59:59Z');
    const back = parseImapDateTime(formatInternalDate(d, 330));
    expect(back?.date.getTime()).toBe(d.getTime());
    expect(back?.zoneMinutes).toBe(330);
  });
});

describe('compareDay', () => {
  it('compares calendar days in a zone', () => {
    const at = new Date('2024-03-05T23:30:00Z');
    expect(compareDay({ year: 2024, month: 3, day: 5 }, at)).toBe(0);
    expect(compareDay({ year: 2024, month: 3, day: 5 }, at, 60)).toBeLessThan(0);
    expect(compareDay({ year: 2024, month: 3, day: 6 }, at)).toBeGreaterThan(0);
  });
});

describe('years before 100', () => {
  // Date.UTC reads years 0..99 as 1900..1999; found by the fuzz harness.
  it('keeps a four-digit year below 0100 as written', () => {
    const d = parseImapDateTime('20-Nov-0007 21:55:57 +0000');
    expect(d?.date.getUTCFullYear()).toBe(7);
    expect(formatInternalDate(d!.date, d!.zoneMinutes)).toBe('20-Nov-0007 21:55:57 +0000');
  });

  it('knows year 0 was a leap year and 1900 was not', () => {
    expect(parseImapDate('29-Feb-0000')).toEqual({ year: 0, month: 2, day: 29 });
    expect(parseImapDateTime('29-Feb-0000 00:00:00 +0000')).not.toBeNull();
    expect(parseImapDate('29-Feb-1900')).toBeNull();
  });

  it('formats date-text with a four-digit year (RFC 9051 date-year)', () => {
    expect(formatImapDate({ year: 478, month: 1, day: 18 })).toBe('18-Jan-0478');
  });
});
