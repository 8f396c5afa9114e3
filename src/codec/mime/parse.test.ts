import { describe, expect, it } from 'vitest';
import { collectDefects, parseMessage } from './parse.js';
import { findPart, listParts, partBody } from './sections.js';
import { corpus, corpusNames, rebuild, text } from './testing/corpus.js';
import type { MimeMessage, MimePart } from './types.js';

function shape(msg: MimeMessage): string[] {
  return listParts(msg).map(({ number, part }) => `${number} ${part.contentType.type}/${part.contentType.subtype}`);
}

function body(msg: MimeMessage, num: string): string {
  const p = findPart(msg, num);
  if (!p) throw new Error(`no part ${num}`);
  return partBody(msg, p).toString('utf8');
}

function codes(part: MimePart): string[] {
  return collectDefects(part).map((d) => d.code);
}

describe('parseMessage on the corpus', () => {
  const names = corpusNames();

  it('has the corpus files', () => {
    expect(names.length).toBeGreaterThanOrEqual(15);
  });

  it.each(names)('%s: the tree rebuilds the original bytes exactly', (name) => {
    const buf = corpus(name);
    const msg = parseMessage(buf);
    expect(msg.root.headerStart).toBe(0);
    expect(msg.root.bodyEnd).toBe(buf.length);
    expect(rebuild(msg, msg.root).equals(buf)).toBe(true);
  });

  it.each(names)('%s: every listed part number finds its part', (name) => {
    const msg = parseMessage(corpus(name));
    for (const { number, part } of listParts(msg)) expect(findPart(msg, number)).toBe(part);
  });
});

describe('part numbering (RFC 3501 6.4.5 sample message)', () => {
  const msg = parseMessage(corpus('mimekit-rfc2060.txt'));

  it('numbers every part as the sample says', () => {
    expect(shape(msg)).toEqual([
      '1 text/plain',
      '2 application/octet-stream',
      '3 message/rfc822',
      '3.1 text/plain',
      '3.2 application/octet-stream',
      '4 multipart/mixed',
      '4.1 image/gif',
      '4.2 message/rfc822',
      '4.2.1 text/plain',
      '4.2.2 multipart/alternative',
      '4.2.2.1 text/plain',
      '4.2.2.2 text/richtext',
    ]);
  });

  it.each(['1', '2', '3.1', '3.2', '4.1', '4.2.1', '4.2.2.1', '4.2.2.2'])('part %s holds its own number', (num) => {
    expect(body(msg, num)).toBe(`This part specifier should be: ${num}\n`);
  });

  it('counts lines of a one-line text part', () => {
    expect(findPart(msg, '1')!.lines).toBe(1);
  });

  it('knows no part 5, 1.1 or 3.3', () => {
    expect(findPart(msg, '5')).toBeNull();
    expect(findPart(msg, '1.1')).toBeNull();
    expect(findPart(msg, '3.3')).toBeNull();
    expect(findPart(msg, '0')).toBeNull();
    expect(findPart(msg, 'x')).toBeNull();
  });

  it('notes that the 4.x multipart was never closed', () => {
    const four = findPart(msg, '4')!;
    expect(four.multipart!.closed).toBe(false);
    expect(codes(four)).toContain('multipart-no-close');
    expect(msg.root.multipart!.closed).toBe(true);
  });
});

describe('structure of known messages', () => {
  it('multipart/digest parts default to message/rfc822 (cpython msg_02)', () => {
    const msg = parseMessage(corpus('cpython-msg_02.txt'));
    expect(shape(msg)).toEqual([
      '1 text/plain', '2 text/plain', '3 multipart/digest',
      '3.1 message/rfc822', '3.1.1 text/plain', '3.2 message/rfc822', '3.2.1 text/plain',
      '3.3 message/rfc822', '3.3.1 text/plain', '3.4 message/rfc822', '3.4.1 text/plain',
      '3.5 message/rfc822', '3.5.1 text/plain', '4 text/plain',
    ]);
    expect(findPart(msg, '3.1')!.contentType.defaulted).toBe(true);
    expect(body(msg, '3.1.1')).toBe('\nhello\n\n');
    expect(body(msg, '3.5.1')).toBe('\nhello\n\n\n\n');
    expect(findPart(msg, '3.5.1')!.lines).toBe(5);
    const epi = msg.root.multipart!.epilogue!;
    expect(text(msg, epi.start, epi.end)).toBe('\nEnd of Ppp Digest\n\n');
    expect(collectDefects(msg.root)).toEqual([]);
  });

  it('message/rfc822 wrapping a digest with a prologue (mimekit)', () => {
    const msg = parseMessage(corpus('mimekit-multipart-digest.txt'));
    expect(shape(msg)).toEqual([
      '1 message/rfc822', '1.1 message/rfc822', '1.1.1 text/plain', '1.2 message/rfc822', '1.2.1 text/plain',
    ]);
    expect(body(msg, '1.1.1')).toBe('m1 body\n');
    expect(body(msg, '1.2.1')).toBe('m2 body\n');
    const digest = msg.root.message!;
    expect(digest.multipart!.boundary).toBe('foo');
    expect(text(msg, digest.multipart!.preamble!.start, digest.multipart!.preamble!.end)).toBe('prologue\n');
    expect(text(msg, digest.multipart!.epilogue!.start, digest.multipart!.epilogue!.end)).toBe('\nepilogue\n\n');
    // The mbox "From " line is not a field.
    expect(codes(msg.root)).toContain('header-bad-name');
    expect(msg.root.header.fields[0]!.name).toBe('From');
  });

  it('inner boundary that is a prefix of the outer one (malformed 001)', () => {
    const msg = parseMessage(corpus('mailparser-malformed-001.eml'));
    expect(shape(msg)).toEqual(['1 multipart/mixed', '2 text/plain']);
    expect(findPart(msg, '1')!.children).toEqual([]);
    expect(body(msg, '2')).toBe('--a\n\n');
  });

  it('nested multipart reusing the parent boundary (malformed 003)', () => {
    const msg = parseMessage(corpus('mailparser-malformed-003.eml'));
    expect(shape(msg)).toEqual(['1 multipart/mixed', '1.1 text/plain']);
    expect(body(msg, '1.1')).toBe('body\n');
  });

  it('boundaries that look like close delimiters (malformed 005)', () => {
    const msg = parseMessage(corpus('mailparser-malformed-005.eml'));
    expect(shape(msg)).toEqual(['1 multipart/mixed', '1.1 text/plain']);
    expect(body(msg, '1.1')).toBe('body');
    const inner = findPart(msg, '1')!;
    expect(inner.multipart!.boundary).toBe('a----');
    expect(text(msg, inner.multipart!.epilogue!.start, inner.multipart!.epilogue!.end)).toBe('Content-Type: text/html\n\nbody2');
    expect(msg.root.multipart!.closed).toBe(true);
  });

  it('back-to-back delimiters and headers without a blank line (malformed 000)', () => {
    const msg = parseMessage(corpus('mailparser-malformed-000.eml'));
    expect(shape(msg)).toEqual(['1 text/plain', '2 text/plain', '3 text/plain', '4 text/html']);
    for (const n of ['1', '2', '3', '4']) expect(body(msg, n)).toBe('');
    expect(findPart(msg, '1')!.contentType.defaulted).toBe(true);
    expect(findPart(msg, '3')!.contentType.defaulted).toBe(false);
    expect(msg.root.multipart!.closed).toBe(true);
  });

  it('message/rfc822 inside message/rfc822 (malformed 010)', () => {
    const msg = parseMessage(corpus('mailparser-malformed-010.eml'));
    expect(shape(msg)).toEqual(['1 message/rfc822', '1.1 message/rfc822', '1.1.1 text/plain']);
    expect(body(msg, '1.1.1')).toBe('1\n');
  });

  it('boundary value that starts and ends with dashes (flanker)', () => {
    const msg = parseMessage(corpus('flanker-dashed-boundaries.eml'));
    expect(msg.root.multipart!.boundary).toBe('--120710081418BV.24190.Texte--');
    expect(shape(msg)).toEqual(['1 text/plain', '2 text/html']);
    expect(body(msg, '1')).toBe('Hi\n');
    expect(body(msg, '2')).toBe('<html><body>Hi</body></html>\r\n');
    expect(msg.root.multipart!.closed).toBe(true);
  });

  it('missing final boundary keeps the last part to the end (flanker)', () => {
    const msg = parseMessage(corpus('flanker-missing-final-boundary.eml'));
    expect(msg.root.multipart!.boundary).toBe('nextPart');
    expect(shape(msg)).toEqual(['1 text/plain']);
    expect(body(msg, '1')).toBe('Some body\n');
    expect(codes(msg.root)).toContain('multipart-no-close');
  });

  it('declared multipart without any boundary line (flanker)', () => {
    const msg = parseMessage(corpus('flanker-false-multipart.eml'));
    expect(msg.root.children).toEqual([]);
    expect(codes(msg.root)).toContain('multipart-no-parts');
    expect(msg.root.multipart!.preamble).toEqual({ start: msg.root.bodyStart, end: msg.buf.length });
  });

  it('multipart without a boundary parameter stays opaque (mimekit)', () => {
    const msg = parseMessage(corpus('mimekit-compliance-missing-multipart-boundary-parameter.eml'));
    expect(msg.root.contentType.type).toBe('multipart');
    expect(msg.root.children).toEqual([]);
    expect(codes(msg.root)).toContain('multipart-no-boundary');
  });

  it('empty multipart/alternative inside multipart/mixed (mimekit)', () => {
    const msg = parseMessage(corpus('mimekit-empty-multipart.txt'));
    expect(shape(msg)).toEqual(['1 multipart/alternative', '2 text/plain']);
    expect(findPart(msg, '1')!.children).toEqual([]);
  });

  it('leading blank-ish line and a broken attached message (flanker enclosed-broken)', () => {
    const msg = parseMessage(corpus('flanker-enclosed-broken.eml'));
    expect(codes(msg.root)[0]).toBe('header-orphan-continuation');
    expect(msg.root.header.fields[0]!.name).toBe('Delivered-To');
    expect(shape(msg)).toEqual(['1 text/plain', '2 message/rfc822', '2.1 text/plain', '2.2 text/html']);
    expect(body(msg, '1')).toBe('Hello\r\n');
    expect(findPart(msg, '2')!.message!.multipart!.boundary).toBe('===============4360815924781479146==');
  });

  it('torture test: twelve top-level parts, deep numbering', () => {
    const msg = parseMessage(corpus('flanker-torture.eml'));
    expect(msg.root.children.map((p) => `${p.contentType.type}/${p.contentType.subtype}`)).toEqual([
      'text/plain', 'message/rfc822', 'message/rfc822', 'audio/basic', 'image/pbm', 'message/rfc822',
      'message/rfc822', 'message/rfc822', 'message/rfc822', 'image/gif', 'message/rfc822', 'message/rfc822',
    ]);
    expect(findPart(msg, '1')!.description).toBe('Explanation');
    expect(findPart(msg, '2')!.description).toBe('Rich Text demo');
    expect(findPart(msg, '6.1')!.multipart!.boundary).toBe('Where_No_One_Has_Gone_Before');
    expect(findPart(msg, '6.2')!.multipart!.boundary).toBe('Where_No_Man_Has_Gone_Before');
    expect(findPart(msg, '12.3.2')!.contentType.subtype).toBe('parallel');
    expect(findPart(msg, '12.3.2.1')!.contentType.subtype).toBe('gif');
  });

  it('"Content-Type: BINARY" is invalid and falls back to text/plain (torture)', () => {
    const msg = parseMessage(corpus('flanker-torture.eml'));
    const bad = collectDefects(msg.root).filter((d) => d.code === 'content-type-invalid');
    expect(bad.map((d) => d.detail)).toEqual(['BINARY']);
  });

  it('two Content-Type fields: the first wins, with a defect', () => {
    const msg = parseMessage(corpus('mimekit-compliance-multiple-content-types.eml'));
    expect(msg.root.contentType.subtype).toBe('plain');
    expect(collectDefects(msg.root)).toEqual([expect.objectContaining({ code: 'header-duplicate', detail: 'Content-Type' })]);
  });

  it('type without a slash is text/plain but keeps its parameters', () => {
    const msg = parseMessage(corpus('mimekit-missing-subtype.txt'));
    expect(msg.root.contentType).toMatchObject({ type: 'text', subtype: 'plain', defaulted: true });
    expect(msg.root.contentType.params.map((p) => [p.name, p.value])).toEqual([['name', 'document.xml.gz']]);
  });

  it('message/rfc822 sent as base64 is flagged', () => {
    const msg = parseMessage(corpus('mimekit-compliance-invalid-content-transfer-encoding-rfc822.eml'));
    expect(codes(msg.root)).toContain('message-encoded');
  });

  it('reads MIME fields of a part', () => {
    const msg = parseMessage(corpus('mailparser-thirdparty-010.eml'));
    const p = findPart(msg, '1')!;
    expect(p.transferEncoding).toBe('binary');
    expect(p.language).toEqual(['ja']);
    expect(msg.root.contentType.params.map((x) => [x.name, x.value])).toEqual([['boundary', '1'], ['comment', '']]);
    expect(codes(msg.root)).toEqual(expect.arrayContaining(['param-invalid', 'param-duplicate']));
  });
});

describe('a part whose header ends right at an outer delimiter', () => {
  // Found by the fuzz harness: the blank line after the inner part's header is
  // also the line break before the outer delimiter. The inner part ended one
  // byte past its parent, and the tree no longer rebuilt the input.
  const cases = [
    'Content-Type: multipart/mixed; boundary=A\n\n--A\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\n--A--\n',
    'Content-Type: multipart/mixed; boundary=A\r\n\r\n--A\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nX: y\r\n--A\r\nZ: 1\r\n\r\nz\r\n--A--',
  ];
  it.each(cases)('keeps every part inside its parent and rebuilds the input (%#)', (src) => {
    const buf = Buffer.from(src, 'latin1');
    const msg = parseMessage(buf);
    const inside = (p: MimePart, lo: number, hi: number): void => {
      expect(p.headerStart).toBeGreaterThanOrEqual(lo);
      expect(p.bodyEnd).toBeLessThanOrEqual(hi);
      for (const c of p.children) inside(c, p.bodyStart, p.bodyEnd);
    };
    inside(msg.root, 0, buf.length);
    expect(rebuild(msg, msg.root).equals(buf)).toBe(true);
    expect(shape(msg)[0]).toBe('1 multipart/mixed');
    expect(findPart(msg, '1.1')!.bodyEnd).toBe(findPart(msg, '1')!.bodyEnd);
  });
});
