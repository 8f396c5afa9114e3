import { describe, expect, it } from 'vitest';
import { parseMessage } from './parse.js';
import { fetchSection, findPart, parsePartNumber } from './sections.js';
import { corpus } from './testing/corpus.js';

const str = (b: Buffer | null): string | null => (b === null ? null : b.toString('latin1'));

describe('fetchSection on the RFC 3501 sample structure', () => {
  const msg = parseMessage(corpus('mimekit-rfc2060.txt'));
  const top =
    'From: me@myself.com\nTo: me@myself.com\nSubject: Sample message structure for IMAP part specifiers\n' +
    'MIME-Version: 1.0\nContent-Type: MULTIPART/MIXED; boundary="x"\n\n';

  it('BODY[] is the whole message', () => {
    expect(fetchSection(msg, {})!.equals(msg.buf)).toBe(true);
  });

  it('BODY[HEADER] and BODY[TEXT] split the message at the blank line', () => {
    expect(str(fetchSection(msg, { text: 'HEADER' }))).toBe(top);
    const body = str(fetchSection(msg, { text: 'TEXT' }))!;
    expect(body.startsWith('--x\nContent-Type: TEXT/PLAIN\n\nThis part specifier should be: 1\n')).toBe(true);
    expect(body.endsWith('--4.2.2.x--\n--4.2.x--\n--x--\n')).toBe(true);
    expect(top.length + body.length).toBe(msg.buf.length);
  });

  it('BODY[3.HEADER], BODY[3.TEXT] and BODY[3.MIME] of a message/rfc822 part', () => {
    expect(str(fetchSection(msg, { part: '3', text: 'HEADER' }))).toBe(
      'From: me@myself.com\nTo: me@myself.com\nSubject: This part specifier should be: 3\n' +
        'MIME-Version: 1.0\nContent-Type: MULTIPART/MIXED; boundary="3.x"\n\n',
    );
    expect(str(fetchSection(msg, { part: '3', text: 'TEXT' }))).toBe(
      '--3.x\nContent-Type: TEXT/PLAIN\n\nThis part specifier should be: 3.1\n\n' +
        '--3.x\nContent-Type: APPLICATION/OCTET-STREAM\n\nThis part specifier should be: 3.2\n\n--3.x--',
    );
    expect(str(fetchSection(msg, { part: '3', text: 'MIME' }))).toBe('Content-Type: MESSAGE/RFC822\n\n');
  });

  it('BODY[n] of a multipart is its body, delimiters included', () => {
    const four = str(fetchSection(msg, { part: [4] }))!;
    expect(four.startsWith('--4.x\nContent-Type: IMAGE/GIF\n')).toBe(true);
    expect(four.endsWith('--4.2.2.x--\n--4.2.x--')).toBe(true);
    expect(str(fetchSection(msg, { part: '4', text: 'MIME' }))).toBe('Content-Type: MULTIPART/MIXED; boundary="4.x"\n\n');
  });

  it('BODY[HEADER.FIELDS (...)] keeps original order and case-insensitive names', () => {
    expect(str(fetchSection(msg, { text: 'HEADER.FIELDS', fields: ['SUBJECT', 'from'] }))).toBe(
      'From: me@myself.com\nSubject: Sample message structure for IMAP part specifiers\n\n',
    );
    expect(str(fetchSection(msg, { text: 'HEADER.FIELDS', fields: ['X-None'] }))).toBe('\n');
  });

  it('BODY[HEADER.FIELDS.NOT (...)] leaves the named fields out', () => {
    expect(str(fetchSection(msg, { text: 'HEADER.FIELDS.NOT', fields: ['Content-Type', 'MIME-Version'] }))).toBe(
      'From: me@myself.com\nTo: me@myself.com\nSubject: Sample message structure for IMAP part specifiers\n\n',
    );
  });

  it('BODY[4.2.HEADER.FIELDS (SUBJECT)] reads the encapsulated message', () => {
    expect(str(fetchSection(msg, { part: '4.2', text: 'HEADER.FIELDS', fields: ['Subject'] }))).toBe(
      'Subject: This part specifier should be: 4.2\n\n',
    );
  });

  it('refuses sections that do not apply', () => {
    expect(fetchSection(msg, { part: '1', text: 'HEADER' })).toBeNull();
    expect(fetchSection(msg, { part: '1', text: 'TEXT' })).toBeNull();
    expect(fetchSection(msg, { text: 'MIME' })).toBeNull();
    expect(fetchSection(msg, { part: '9' })).toBeNull();
    expect(fetchSection(msg, { part: '1.x' })).toBeNull();
  });

  it('slices share memory with the parsed buffer', () => {
    const part = fetchSection(msg, { part: '3.1' })!;
    expect(part.buffer).toBe(msg.buf.buffer);
    expect(part.toString()).toBe('This part specifier should be: 3.1\n');
  });
});

describe('single-part messages', () => {
  it('part 1 is the body and 1.MIME the message header', () => {
    const msg = parseMessage(corpus('flanker-encoded-header.eml'));
    expect(str(fetchSection(msg, { part: '1' }))).toBe('hello, world\n');
    expect(fetchSection(msg, { part: '1', text: 'MIME' })!.equals(fetchSection(msg, { text: 'HEADER' })!)).toBe(true);
    expect(findPart(msg, '2')).toBeNull();
    expect(findPart(msg, '1.1')).toBeNull();
  });

  it('CRLF messages keep CRLF in HEADER.FIELDS', () => {
    const msg = parseMessage(corpus('flanker-dashed-boundaries.eml'));
    expect(str(fetchSection(msg, { text: 'HEADER.FIELDS', fields: ['subject', 'to'] }))).toBe('To: user@example.com\r\nSubject: Hi\r\n\r\n');
  });

  it('a field cut off by the end of data still gets its line break', () => {
    const msg = parseMessage(corpus('mimekit-compliance-incomplete-header.eml'));
    expect(str(fetchSection(msg, { text: 'HEADER.FIELDS', fields: ['Content-Type'] }))).toBe('Content-Type: text/plain\r\n\r\n');
  });

  it('returns folded fields whole', () => {
    const msg = parseMessage(corpus('mimekit-japanese.txt'));
    expect(str(fetchSection(msg, { text: 'HEADER.FIELDS', fields: ['Subject'] }))).toBe(
      'Subject: =?ISO-2022-JP?B?GyRCRnxLXDhsJWEhPCVrJUYlOSVIGyhCICh0ZXN0aW5nIEph?=\n =?ISO-2022-JP?B?cGFuZXNlIGVtYWlscyk=?=\n\n',
    );
  });
});

describe('parsePartNumber', () => {
  it('accepts dotted positive integers only', () => {
    expect(parsePartNumber('1.2.30')).toEqual([1, 2, 30]);
    expect(parsePartNumber('')).toEqual([]);
    expect(parsePartNumber('1..2')).toBeNull();
    expect(parsePartNumber('01')).toBeNull();
    expect(parsePartNumber('1.0')).toBeNull();
    expect(parsePartNumber([1, 0])).toBeNull();
  });
});

describe('HEADER.FIELDS of a header cut off by the end of the data', () => {
  // Found by the fuzz harness: a last field ending in a bare CR got another CRLF,
  // so the client read "} Hi\r" where the parser had read "} Hi".
  it.each([
    ['To: a@b.c\r\nSubject: Hi\r', 'To: a@b.c\r\nSubject: Hi\r\n\r\n'],
    ['To: a@b.c\r\nSubject: Hi', 'To: a@b.c\r\nSubject: Hi\r\n\r\n'],
    ['To: a@b.c\nSubject: Hi\n', 'To: a@b.c\nSubject: Hi\n\r\n'],
  ])('%j gives its fields with one line break each', (src, want) => {
    const msg = parseMessage(Buffer.from(src, 'latin1'));
    expect(str(fetchSection(msg, { text: 'HEADER.FIELDS', fields: ['to', 'SUBJECT'] }))).toBe(want);
  });
});
