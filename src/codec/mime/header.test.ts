import { describe, expect, it } from 'vitest';
import { getFields, headerValue, parseHeaderSection } from './header.js';
import { corpus, corpusNames } from './testing/corpus.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('parseHeaderSection', () => {
  it('finds CRLF CRLF and keeps raw bytes and offsets', () => {
    const buf = b('Subject: hi\r\nTo: a@b.c,\r\n\td@e.f\r\n\r\nbody');
    const h = parseHeaderSection(buf);
    expect(h.hasSeparator).toBe(true);
    expect(h.end).toBe(33);
    expect(h.bodyStart).toBe(35);
    expect(h.fields.map((f) => [f.name, f.value, f.start, f.end])).toEqual([
      ['Subject', 'hi', 0, 13],
      ['To', 'a@b.c,\td@e.f', 13, 33],
    ]);
    expect(Buffer.from(h.fields[1]!.raw).toString('latin1')).toBe('To: a@b.c,\r\n\td@e.f\r\n');
    expect(h.defects).toEqual([]);
  });

  it('accepts LF LF leniently', () => {
    const h = parseHeaderSection(b('A: 1\nB:2\n\nrest'));
    expect(h.fields.map((f) => f.value)).toEqual(['1', '2']);
    expect(h.bodyStart).toBe(10);
  });

  it('records lines without a colon and bad names as defects', () => {
    const h = parseHeaderSection(b('From x Sat 1 12:00:00 1993\njunk line\n  still junk\nX Bad: 1\nGood: yes\n\n'));
    expect(h.fields.map((f) => f.name)).toEqual(['Good']);
    expect(h.defects.map((d) => [d.code, d.offset])).toEqual([
      ['header-bad-name', 0],
      ['header-no-colon', 27],
      ['header-bad-name', 50],
    ]);
  });

  it('reports a header without blank line', () => {
    const h = parseHeaderSection(corpus('mimekit-compliance-incomplete-header.eml'));
    expect(h.hasSeparator).toBe(false);
    expect(h.bodyStart).toBe(h.end);
    expect(headerValue(h.fields, 'content-type')).toBe('text/plain');
    expect(h.defects.map((d) => d.code)).toEqual(['header-no-separator']);
  });

  it('stops at the byte limit and leaves the rest as body', () => {
    const buf = b('A: 1\r\nB: 2\r\nC: 3\r\n\r\n');
    const h = parseHeaderSection(buf, { maxHeaderBytes: 14 });
    expect(h.truncated).toBe(true);
    expect(h.fields.map((f) => f.name)).toEqual(['A', 'B']);
    expect(h.bodyStart).toBe(12);
    expect(h.defects[0]!.code).toBe('header-too-large');
  });

  it('stops at the field limit', () => {
    const h = parseHeaderSection(b('A: 1\nB: 2\nC: 3\n\n'), { maxHeaderFields: 2 });
    expect(h.truncated).toBe(true);
    expect(h.fields.length).toBe(2);
    expect(h.defects[0]!.code).toBe('header-too-many-fields');
  });

  it('reads UTF-8 and falls back to latin1 per field', () => {
    const buf = Buffer.concat([b('A: '), Buffer.from('héllo', 'utf8'), b('\nB: caf\xe9\n\n')]);
    const h = parseHeaderSection(buf);
    expect(h.fields.map((f) => f.value)).toEqual(['héllo', 'café']);
  });

  it('scans a sub-range and handles a 200 KB folded field', () => {
    const buf = corpus('flanker-long-header.eml');
    const h = parseHeaderSection(buf);
    expect(getFields(h.fields, 'subject').length).toBe(1);
    expect(h.fields.map((f) => f.name)).toEqual(['Date', 'From', 'To', 'Subject', 'Mime-Version', 'Content-Type', 'Content-Transfer-Encoding']);
    const sub = parseHeaderSection(b('xxA: 1\n\nyy'), { start: 2, end: 8 });
    expect(sub.fields[0]!.start).toBe(2);
    expect(sub.bodyStart).toBe(8);
  });

  it('empty input', () => {
    const h = parseHeaderSection(new Uint8Array(0));
    expect(h.fields).toEqual([]);
    expect(h.bodyStart).toBe(0);
    expect(h.hasSeparator).toBe(false);
  });
});

describe('hostile header sections', () => {
  it('scans 170,000 colon-less lines before a 1 MB colon-free body in linear time', { timeout: 20_000 }, () => {
    const h = parseHeaderSection(b('Subject: x\r\n' + 'junk\r\n'.repeat(170_000) + '\r\n' + 'y'.repeat(1024 * 1024)), { maxHeaderBytes: 4 * 1024 * 1024 });
    expect(h.fields.map((f) => f.name)).toEqual(['Subject']);
    expect(h.hasSeparator).toBe(true);
    expect(h.defects[0]).toEqual({ code: 'header-no-colon', offset: 12 });
  });

  it('finds no colon past the end of its line or region', () => {
    const h = parseHeaderSection(b('A: 1\r\nnocolon\r\nB: 2\r\n\r\n'));
    expect(h.fields.map((f) => f.name)).toEqual(['A', 'B']);
    expect(parseHeaderSection(b('nocolon\r\n\r\nX: y'), { end: 7 }).fields).toEqual([]);
  });

  it('ends a last line without LF at its region, though a LF follows, one-line and folded alike', () => {
    const h = parseHeaderSection(b('A: 1\r\nB: 2xx\nC: 3\n\n'), { end: 11 });
    expect(h.fields.map((f) => [f.name, f.value, f.end])).toEqual([
      ['A', '1', 6],
      ['B', '2x', 11],
    ]);
    expect(h.hasSeparator).toBe(false);
    const folded = parseHeaderSection(b('A: 1\r\n  two\r\n three\n\n'), { end: 16 });
    expect(folded.fields.map((f) => [f.value, f.end])).toEqual([['1  two th', 16]]);
  });

  it('with keep lists exactly the fields a full scan lists of those names, and ends where it ends, limits included', () => {
    const keep = (n: string): boolean => ['from', 'subject', 'x-b'].includes(n.toLowerCase());
    const many = b(`${Array.from({ length: 30 }, (_, i) => `X-${i % 2 ? 'a' : 'b'}: ${i}\r\n`).join('')}Subject: late\r\n\r\n`);
    const cases: Array<[string, Buffer, object]> = [
      ...corpusNames().map((n): [string, Buffer, object] => [n, corpus(n), {}]),
      ['many fields', many, { maxHeaderFields: 11 }],
      ['large header', many, { maxHeaderBytes: 100 }],
      ['junk lines', b('From: a\r\n\tfolded\r\nnocolon\r\n\tjunk\r\nbad name: x\r\nSUBJECT: s\r\n'), {}],
    ];
    for (const [name, bytes, limits] of cases) {
      const full = parseHeaderSection(bytes, limits);
      const some = parseHeaderSection(bytes, { ...limits, keep });
      expect([name, some]).toEqual([name, { ...full, fields: full.fields.filter((f) => keep(f.name)) }]);
    }
    // The limit counts every field, listed or not: the late Subject is past it.
    expect(parseHeaderSection(many, { maxHeaderFields: 11, keep }).fields.map((f) => f.value)).toEqual(['0', '2', '4', '6', '8', '10']);
  });
});
