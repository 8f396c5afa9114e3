import { describe, expect, it } from 'vitest';
import { decodeCharset, isKnownCharset } from './charset.js';
import { decodeEncodedWords, encodeEncodedWords } from './encoded-word.js';
import { headerValue } from './header.js';
import { parseMessage } from './parse.js';
import { corpus } from './testing/corpus.js';

describe('decodeEncodedWords', () => {
  it('decodes B and Q words', () => {
    expect(decodeEncodedWords('=?UTF-8?B?44GT44KT44Gr44Gh44Gv?=')).toBe('こんにちは');
    expect(decodeEncodedWords('=?iso-8859-1?q?caf=E9_au_lait?=')).toBe('café au lait');
    expect(decodeEncodedWords('=?koi8-r?B?8NLJ18XU?=')).toBe('Привет');
  });

  it('drops white space only between adjacent words', () => {
    expect(decodeEncodedWords('=?utf-8?q?a?= =?utf-8?q?b?=')).toBe('ab');
    expect(decodeEncodedWords('=?utf-8?q?a?= x =?utf-8?q?b?=')).toBe('a x b');
    expect(decodeEncodedWords('Re: =?utf-8?q?a?=  tail')).toBe('Re: a  tail');
  });

  it('joins bytes across words: ISO-2022-JP subject split in two (mimekit japanese)', () => {
    const msg = parseMessage(corpus('mimekit-japanese.txt'));
    expect(decodeEncodedWords(headerValue(msg.root.header.fields, 'Subject')!)).toBe('日本語メールテスト (testing Japanese emails)');
  });

  it('decodes a Russian subject folded over two words (flanker bilingual)', () => {
    const msg = parseMessage(corpus('flanker-bilingual-simple.eml'));
    expect(decodeEncodedWords(headerValue(msg.root.header.fields, 'Subject')!)).toBe('Simple text. How are you? Как ты поживаешь?');
  });

  it('joins a UTF-8 character split across two words', () => {
    // "é" is C3 A9: one byte in each word.
    expect(decodeEncodedWords('=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=')).toBe('café');
  });

  it('decodes a 200 KB subject of 3302 folded words (flanker long-header)', () => {
    const msg = parseMessage(corpus('flanker-long-header.eml'));
    const text = 'Die heiße Zypernsonne quälte Max und Victoria ja böse auf dem Weg bis zur Küste';
    expect(decodeEncodedWords(headerValue(msg.root.header.fields, 'Subject')!)).toBe(text.repeat(1651));
  });

  it('leaves unknown or broken words readable and never throws', () => {
    expect(decodeEncodedWords('=?x-unknown?q?caf=E9?=')).toBe('café');
    expect(decodeEncodedWords('=?utf-8?x?abc?=')).toBe('=?utf-8?x?abc?=');
    expect(decodeEncodedWords('=?utf-8?q?unterminated')).toBe('=?utf-8?q?unterminated');
    expect(decodeEncodedWords('plain')).toBe('plain');
    expect(decodeEncodedWords('=?utf-8?b?####?=')).toBe('');
  });
});

describe('encodeEncodedWords', () => {
  it('leaves plain ASCII alone and keeps words within 75 characters', () => {
    expect(encodeEncodedWords('Hello world')).toBe('Hello world');
    const long = 'Grüße aus Köln! '.repeat(20);
    for (const mode of ['B', 'Q'] as const) {
      const enc = encodeEncodedWords(long, mode);
      for (const w of enc.split(' ')) expect(w.length).toBeLessThanOrEqual(75);
      expect(decodeEncodedWords(enc)).toBe(long);
    }
  });

  it('encodes text that would otherwise look like an encoded word', () => {
    expect(decodeEncodedWords(encodeEncodedWords('=?a?q?b?='))).toBe('=?a?q?b?=');
  });
});

describe('decodeCharset', () => {
  it('knows the mail charsets ICU brings', () => {
    for (const cs of ['iso-2022-jp', 'shift_jis', 'euc-kr', 'gb2312', 'big5', 'koi8-r', 'windows-1251', 'iso-8859-2', 'cp932']) {
      expect(isKnownCharset(cs)).toBe(true);
    }
    expect(decodeCharset(Buffer.from([0x1b, 0x24, 0x42, 0x46, 0x7c, 0x4b, 0x5c, 0x1b, 0x28, 0x42]), 'ISO-2022-JP')).toBe('日本');
    expect(decodeCharset(Buffer.from([0xa1]), '"iso-8859-2"')).toBe('Ą');
  });

  it('falls back to latin1 on unknown labels', () => {
    expect(isKnownCharset('x-martian')).toBe(false);
    expect(decodeCharset(Buffer.from([0x63, 0xe9]), 'x-martian')).toBe('cé');
    expect(decodeCharset(Buffer.from([0x63, 0xe9]), 'utf-7')).toBe('cé');
  });
});
