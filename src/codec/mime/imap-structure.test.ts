import { describe, expect, it } from 'vitest';
import { buildBodyStructure, buildEnvelope, imapAddresses, type ImapMultipart, type ImapSinglePart } from './imap-structure.js';
import { encodeEnvelope, encodeValue } from '../imap/index.js';
import { parseMessage } from './parse.js';
import { findPart } from './sections.js';
import { corpus } from './testing/corpus.js';

const addr = (name: string | null, mailbox: string | null, host: string | null, adl: string | null = null) => ({ name, adl, mailbox, host });
const me = [addr(null, 'me', 'myself.com')];
const single = (v: unknown): ImapSinglePart => v as ImapSinglePart;
const multi = (v: unknown): ImapMultipart => v as ImapMultipart;

describe('buildEnvelope', () => {
  it('sends raw 8-bit header text (not UTF-8) back as the bytes written, never as Latin-1 reinterpreted', () => {
    const gb2312 = Buffer.from([0xb2, 0xe2, 0xca, 0xd4]); // "测试"
    const koi8 = Buffer.from([0xf4, 0xc5, 0xd3, 0xd4]); // "Тест"
    const head = (s: string): Buffer => Buffer.from(s, 'latin1');
    const msg = parseMessage(Buffer.concat([head('Subject: '), gb2312, head('\r\nFrom: '), koi8, head(' <a@b.example>\r\nTo: caf\xc3\xa9 <c@d.example>\r\n\r\nx\r\n')]));
    const wire = encodeValue(encodeEnvelope(buildEnvelope(msg.root)));
    expect(wire.includes(Buffer.concat([head('{4}\r\n'), gb2312]))).toBe(true);
    expect(wire.includes(Buffer.concat([head('{4}\r\n'), koi8]))).toBe(true);
    // UTF-8 text stays UTF-8 (a literal, as IMAP4rev1 quoted strings are 7-bit).
    expect(wire.includes(head('{5}\r\ncaf\xc3\xa9'))).toBe(true);
    expect(wire.includes(Buffer.from('\ufffd'))).toBe(false);
    expect(wire.includes(Buffer.from('\u00b2'))).toBe(false);
  });

  it('reads the RFC 3501 sample header; Sender and Reply-To default to From', () => {
    const msg = parseMessage(corpus('mimekit-rfc2060.txt'));
    expect(buildEnvelope(msg.root)).toEqual({
      date: null,
      subject: 'Sample message structure for IMAP part specifiers',
      from: me,
      sender: me,
      replyTo: me,
      to: me,
      cc: null,
      bcc: null,
      inReplyTo: null,
      messageId: null,
    });
  });

  it('keeps header text raw and takes a comment as the name (cpython digest)', () => {
    const msg = parseMessage(corpus('cpython-msg_02.txt'));
    const top = buildEnvelope(msg.root);
    expect(top.sender).toEqual([addr(null, 'ppp-admin', 'zzz.org')]);
    expect(top.from).toEqual([addr(null, 'ppp-request', 'zzz.org')]);
    expect(top.date).toBe('Fri, 20 Apr 2001 20:18:00 -0400 (EDT)');
    const inner = buildEnvelope(findPart(msg, '3.1')!.message!);
    expect(inner.subject).toBe('[Ppp] testing #1');
    expect(inner.from).toEqual([addr('Barry A. Warsaw', 'barry', 'digicool.com')]);
    expect(inner.date).toBe('Fri, 20 Apr 2001 20:16:13 -0400');
    expect(buildEnvelope(findPart(msg, '3.2')!.message!).subject).toBeNull();
  });

  it('does not decode encoded words in names', () => {
    const msg = parseMessage(corpus('flanker-encoded-header.eml'));
    const env = buildEnvelope(msg.root);
    expect(env.from).toEqual([addr('=?UTF-8?B?Rm9vLCBCYXI=?=', 'foo.bar', 'example.com')]);
    expect(env.messageId).toBe('<1234567890-1234-4567@example.com>');
  });

  it('unfolds a folded Subject', () => {
    const msg = parseMessage(corpus('mimekit-japanese.txt'));
    expect(buildEnvelope(msg.root).subject).toBe(
      '=?ISO-2022-JP?B?GyRCRnxLXDhsJWEhPCVrJUYlOSVIGyhCICh0ZXN0aW5nIEph?= =?ISO-2022-JP?B?cGFuZXNlIGVtYWlscyk=?=',
    );
  });

  it('empty Reply-To falls back to From', () => {
    const msg = parseMessage(Buffer.from('From: A <a@x.org>\r\nReply-To:\r\nSender: \r\n\r\nhi\r\n'));
    const env = buildEnvelope(msg.root);
    expect(env.replyTo).toEqual([addr('A', 'a', 'x.org')]);
    expect(env.sender).toEqual([addr('A', 'a', 'x.org')]);
  });
});

describe('imapAddresses', () => {
  it('marks groups with NIL hosts (RFC 3501 7.4.2)', () => {
    expect(imapAddresses('A Group:a@b.c, "Joe Q." <joe@x.org>;, Bob <bob@y.org>')).toEqual([
      addr(null, 'A Group', null),
      addr(null, 'a', 'b.c'),
      addr('Joe Q.', 'joe', 'x.org'),
      addr(null, null, null),
      addr('Bob', 'bob', 'y.org'),
    ]);
    expect(imapAddresses('undisclosed-recipients:;')).toEqual([addr(null, 'undisclosed-recipients', null), addr(null, null, null)]);
  });

  it('keeps an obsolete route as adl and fills missing parts', () => {
    expect(imapAddresses('<@a.example,@b.example:joe@c.example>')).toEqual([addr(null, 'joe', 'c.example', '@a.example,@b.example')]);
    expect(imapAddresses('joe')).toEqual([addr(null, 'joe', 'MISSING_DOMAIN')]);
    expect(imapAddresses('<>')).toEqual([addr(null, 'MISSING_MAILBOX', 'MISSING_DOMAIN')]);
    expect(imapAddresses('')).toBeNull();
    expect(imapAddresses(null)).toBeNull();
  });
});

describe('buildBodyStructure', () => {
  it('describes the RFC 3501 sample structure', () => {
    const msg = parseMessage(corpus('mimekit-rfc2060.txt'));
    const bs = multi(buildBodyStructure(msg.root));
    expect(bs.kind).toBe('multipart');
    expect(bs.subtype).toBe('mixed');
    expect(bs.params).toEqual([{ name: 'boundary', value: 'x' }]);
    expect(bs.children.length).toBe(4);
    expect(bs.children[0]).toEqual({
      kind: 'single', type: 'text', subtype: 'plain', params: [{ name: 'charset', value: 'us-ascii' }],
      id: null, description: null, encoding: '7bit', size: 33, lines: 1, envelope: null, body: null,
      md5: null, disposition: null, language: null, location: null,
    });
    expect(single(bs.children[1])).toMatchObject({ type: 'application', subtype: 'octet-stream', params: [], size: 33, lines: null });
    const inner =
      'From: me@myself.com\nTo: me@myself.com\nSubject: This part specifier should be: 3\nMIME-Version: 1.0\n' +
      'Content-Type: MULTIPART/MIXED; boundary="3.x"\n\n--3.x\nContent-Type: TEXT/PLAIN\n\n' +
      'This part specifier should be: 3.1\n\n--3.x\nContent-Type: APPLICATION/OCTET-STREAM\n\n' +
      'This part specifier should be: 3.2\n\n--3.x--';
    const three = single(bs.children[2]);
    expect(three).toMatchObject({ type: 'message', subtype: 'rfc822', size: inner.length, lines: 16 });
    expect(three.envelope!.subject).toBe('This part specifier should be: 3');
    expect(multi(three.body).children.map((c) => single(c).subtype)).toEqual(['plain', 'octet-stream']);
    const four = multi(bs.children[3]);
    expect(four.params).toEqual([{ name: 'boundary', value: '4.x' }]);
    expect(single(four.children[1]).envelope!.subject).toBe('This part specifier should be: 4.2');
  });

  it('describes an attached message (mimekit simple-embedded)', () => {
    const msg = parseMessage(corpus('mimekit-simple-embedded-message.eml'));
    const inner =
      'From: mimekit@example.com\nTo: mimekit@example.com\nSubject: embedded message\n' +
      'Date: Tue, 12 Nov 2013 09:12:42 -0500\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n' +
      'This is the embedded message body.\n';
    const part = single(buildBodyStructure(findPart(msg, '2')!));
    expect(part).toMatchObject({ type: 'message', subtype: 'rfc822', encoding: '7bit', size: inner.length, lines: 8 });
    expect(part.envelope).toMatchObject({ subject: 'embedded message', date: 'Tue, 12 Nov 2013 09:12:42 -0500', messageId: null });
    expect(part.body).toMatchObject({ type: 'text', subtype: 'plain', params: [{ name: 'charset', value: 'utf-8' }], size: 35, lines: 1 });
    expect(buildEnvelope(msg.root).messageId).toBe('<54AD68C9E3B0184CAC6041320424FD1B5B81E74D@localhost.localdomain>');
  });

  it('gives a multipart without parts one empty text/plain child', () => {
    const msg = parseMessage(corpus('flanker-false-multipart.eml'));
    const bs = multi(buildBodyStructure(msg.root));
    expect(bs.subtype).toBe('alternative');
    expect(bs.children).toEqual([expect.objectContaining({ type: 'text', subtype: 'plain', size: 0, lines: 0 })]);
  });

  it('carries extension data and RFC 2231 values in IMAP form', () => {
    const raw = [
      'Content-Type: multipart/mixed; boundary="b"', '', '--b',
      'Content-Type: application/pdf; name="r.pdf"',
      'Content-Transfer-Encoding: BASE64',
      'Content-ID: <c1@x>',
      'Content-Description: The report',
      'Content-Disposition: attachment;',
      " filename*0*=utf-8''%E2%82%AC%20rates;",
      ' filename*1=".pdf"',
      'Content-Language: en, de (German)',
      'Content-Location: http://example.com/r.pdf',
      'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
      '', 'SGVsbG8=', '--b--', '',
    ].join('\r\n');
    const msg = parseMessage(Buffer.from(raw));
    const pdf = findPart(msg, '1')!;
    expect(pdf.disposition!.params[0]!.value).toBe('€ rates.pdf');
    expect(buildBodyStructure(pdf)).toEqual({
      kind: 'single', type: 'application', subtype: 'pdf', params: [{ name: 'name', value: 'r.pdf' }],
      id: '<c1@x>', description: 'The report', encoding: 'base64', size: 8, lines: null, envelope: null, body: null,
      md5: 'Q2hlY2sgSW50ZWdyaXR5IQ==',
      disposition: { type: 'attachment', params: [{ name: 'filename*', value: "utf-8''%E2%82%AC%20rates.pdf" }] },
      language: ['en', 'de'],
      location: 'http://example.com/r.pdf',
    });
  });
});
