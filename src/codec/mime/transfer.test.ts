import { describe, expect, it } from 'vitest';
import { decodePartBody, decodePartText } from './body.js';
import { parseMessage } from './parse.js';
import { findPart } from './sections.js';
import { corpus } from './testing/corpus.js';
import { decodeBase64, decodeQuotedPrintable, decodeTransfer } from './transfer.js';

const s = (u: Uint8Array): string => Buffer.from(u).toString('latin1');
const b = (t: string): Buffer => Buffer.from(t, 'latin1');

describe('decodeBase64', () => {
  it('ignores line breaks and junk, tolerates missing padding', () => {
    expect(s(decodeBase64(b('SGVs\r\nbG8s\nIHdvcmxk')))).toBe('Hello, world');
    expect(s(decodeBase64(b('SGVsbG8')))).toBe('Hello');
    expect(s(decodeBase64(b('SG Vs*bG8=')))).toBe('Hello');
  });

  it('decodes concatenated padded chunks', () => {
    expect(s(decodeBase64(b('SGk=SGk=')))).toBe('HiHi');
  });

  it('stops at maxOutput', () => {
    expect(s(decodeBase64(b('SGVsbG8sIHdvcmxk'), 5))).toBe('Hello');
  });
});

describe('decodeQuotedPrintable', () => {
  it('decodes escapes in either case and soft line breaks', () => {
    expect(s(decodeQuotedPrintable(b('caf=E9 =e9t=\r\n=E9\r\n')))).toBe('caf\xe9 \xe9t\xe9\r\n');
    expect(s(decodeQuotedPrintable(b('a=  \nb')))).toBe('ab');
  });

  it('drops trailing blanks on hard lines and keeps stray "="', () => {
    expect(s(decodeQuotedPrintable(b('a  \r\nb \t\nc')))).toBe('a\r\nb\nc');
    expect(s(decodeQuotedPrintable(b('1=2 =G0 x=')))).toBe('1=2 =G0 x');
  });

  it('identity encodings are returned as they are', () => {
    const body = b('x=41');
    expect(decodeTransfer(body, '8bit')).toBe(body);
    expect(s(decodeTransfer(body, 'Quoted-Printable'))).toBe('xA');
  });
});

describe('decoding corpus parts', () => {
  it('every transfer encoding in cpython msg_10', () => {
    const msg = parseMessage(corpus('cpython-msg_10.txt'));
    expect(decodePartText(msg, findPart(msg, '1')!)).toBe('This is a 7bit encoded message.\n');
    expect(decodePartText(msg, findPart(msg, '2')!)).toBe('¡This is a Quoted Printable encoded message!\n');
    expect(decodePartText(msg, findPart(msg, '3')!)).toBe('This is a Base64 encoded message.');
    expect(decodePartText(msg, findPart(msg, '4')!)).toBe('This is a Base64 encoded message.\n');
    expect(decodePartText(msg, findPart(msg, '5')!)).toBe('This has no Content-Transfer-Encoding: header.\n');
  });

  it('UTF-16 parts, binary with NUL bytes and base64 (mail-parser thirdparty 005)', () => {
    const msg = parseMessage(corpus('mailparser-thirdparty-005.eml'));
    expect(decodePartText(msg, findPart(msg, '1')!)).toBe('Test message\n');
    expect(decodePartText(msg, findPart(msg, '2')!)).toBe('Test message\n');
    expect(decodePartText(msg, findPart(msg, '3')!)).toBe('Test message\n');
    expect(decodePartBody(msg, findPart(msg, '1')!)[1]).toBe(0);
  });

  it('quoted-printable UTF-8 with a soft break inside a character (flanker bilingual)', () => {
    const msg = parseMessage(corpus('flanker-bilingual-simple.eml'));
    expect(decodePartText(msg, findPart(msg, '1')!).startsWith('This line is in English\nА эта линия по-русски.\n\n\n\n')).toBe(true);
  });

  it('ISO-2022-JP body (mimekit japanese) and raw UTF-8 (thirdparty 010)', () => {
    const jp = parseMessage(corpus('mimekit-japanese.txt'));
    expect(decodePartText(jp, findPart(jp, '1')!)).toContain('日本語が\n正常に\n送れているか\nテスト.');
    const utf8 = parseMessage(corpus('mailparser-thirdparty-010.eml'));
    expect(decodePartText(utf8, findPart(utf8, '1')!)).toBe('人権の無視及');
  });
});
