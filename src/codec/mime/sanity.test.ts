import { describe, expect, it } from 'vitest';
import { checkMessage } from './sanity.js';
import { corpus } from './testing/corpus.js';

const codes = (buf: Uint8Array): string[] => checkMessage(buf).map((p) => p.code);

describe('checkMessage', () => {
  it('finds nothing wrong with a well-formed message', () => {
    expect(checkMessage(corpus('mimekit-simple-embedded-message.eml'))).toEqual([]);
  });

  it('reports a missing Date (RFC 3501 sample)', () => {
    expect(codes(corpus('mimekit-rfc2060.txt'))).toEqual(['date-missing']);
  });

  it('reports a header without blank line', () => {
    expect(codes(corpus('mimekit-compliance-missing-body-separator.eml'))).toEqual(['no-separator', 'date-missing']);
  });

  it('reports header lines over 998 octets, not body lines', () => {
    const problems = checkMessage(corpus('mimekit-compliance-invalid-wrapping.eml'));
    expect(problems[0]).toMatchObject({ code: 'header-line-too-long', offset: 179, count: 1 });
  });

  it('reports NUL bytes with the first offset', () => {
    const problems = checkMessage(corpus('mimekit-compliance-unexpected-null-bytes-in-body.eml'));
    expect(problems).toEqual([expect.objectContaining({ code: 'nul-byte', offset: 543, count: 1 })]);
  });

  it('reports malformed header lines', () => {
    expect(codes(corpus('mimekit-compliance-invalid-header-field-with-space.eml'))).toEqual(['header-malformed', 'date-missing']);
  });

  it('counts From and Date fields', () => {
    const two = checkMessage(Buffer.from('From: a@x.org\r\nFROM: b@x.org\r\nDate: 1\r\nDate: 2\r\n\r\n'));
    expect(two.map((p) => [p.code, p.count])).toEqual([['from-count', 2], ['date-duplicate', 2]]);
    expect(codes(Buffer.from('Date: 1\r\n\r\n'))).toEqual(['from-count']);
  });

  it('reports a header over the limit', () => {
    const msg = Buffer.from('From: a@x.org\r\nDate: 1\r\nX: ' + 'y'.repeat(100) + '\r\n\r\n');
    expect(codes(msg)).toEqual([]);
    expect(checkMessage(msg, { maxHeaderBytes: 40 }).map((p) => p.code)).toEqual(['header-too-large']);
  });
});
