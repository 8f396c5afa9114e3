import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS, extractContent } from './index.js';
import { allText, findingsOf, message, textFrom } from './testing/make.js';

const L = DEFAULT_CONTENT_LIMITS;
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../../../test/fixtures/dlp/${name}`, import.meta.url)));
const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64').replace(/.{76}/g, '$&\r\n');

describe('extractContent: header fields and subject', () => {
  it('decodes RFC 2047 words, unfolds, and gives the subject as a segment', async () => {
    const raw = message(
      ['From: a@example.org', 'Subject: =?ISO-8859-1?Q?Vertraulich:_M=FCller?=', ' =?UTF-8?B?4oCUIGRldGFpbHM=?=', 'X-Classification: confidential'],
      'hello\n',
    );
    const c = await extractContent(raw, L);
    expect(c.subject).toBe('Vertraulich: Müller— details');
    expect(c.headers.map((h) => h.name)).toEqual(['From', 'Subject', 'X-Classification']);
    expect(c.headers[2]!.value).toBe('confidential');
    expect(c.segments[0]).toEqual({ kind: 'subject', source: 'subject', text: 'Vertraulich: Müller— details' });
    expect(textFrom(c, 'body:1')).toBe('hello\r\n');
    expect(c.chars).toBe(c.segments.reduce((n, s) => n + s.text.length, 0));
  });

  it('keeps at most 200 fields of at most 8 KiB each', async () => {
    const fields = Array.from({ length: 250 }, (_, i) => `X-F${i}: ${'v'.repeat(i === 0 ? 20_000 : 3)}`);
    const c = await extractContent(message(fields, 'x'), L);
    expect(c.headers).toHaveLength(200);
    expect(c.headers[0]!.value).toHaveLength(8192);
    expect(c.subject).toBe('');
  });
});

describe('extractContent: bodies in every charset and transfer encoding', () => {
  const cases: [string, string, string, Uint8Array | string, string][] = [
    ['ISO-8859-1 8bit', 'text/plain; charset=ISO-8859-1', '8bit', Buffer.from('Gr\xfc\xdfe aus K\xf6ln', 'latin1'), 'Grüße aus Köln'],
    ['windows-1252 quotes and euro', 'text/plain; charset=windows-1252', '8bit', Buffer.from([0x93, 0x80, 0x35, 0x94]), '“€5”'],
    ['UTF-8 quoted-printable', 'text/plain; charset=utf-8', 'quoted-printable', 'Stra=C3=9Fe =E2=82=AC=\n10 soft', 'Straße €10 soft'],
    ['ISO-2022-JP', 'text/plain; charset=ISO-2022-JP', '7bit', Buffer.from('\x1b$B$3$s$K$A$O\x1b(B', 'latin1'), 'こんにちは'],
    ['base64 UTF-8', 'text/plain; charset=utf-8', 'base64', b64('Kartennummer: 4111 1111 1111 1111 — ok'), 'Kartennummer: 4111 1111 1111 1111 — ok'],
    ['no charset, 8-bit latin1 (windows-1252 guess)', 'text/plain', '8bit', Buffer.from('caf\xe9', 'latin1'), 'café'],
  ];
  for (const [name, type, cte, body, want] of cases) {
    it(name, async () => {
      const c = await extractContent(message(['Subject: t', `Content-Type: ${type}`, `Content-Transfer-Encoding: ${cte}`], body), L);
      expect(textFrom(c, 'body:1')?.trim()).toBe(want);
    });
  }

  it('HTML bodies become text: entities decoded, scripts and styles dropped, cells and blocks separated', async () => {
    const html = '<html><head><style>p{x:1}</style><title>T</title></head><body><p>Caf&eacute; &amp; bar&nbsp;&#8364;5 &#x41;&lt;</p>' +
      '<script>var secret = 1;</script><table><tr><td>4111</td><td>2222</td></tr></table>con<b>fid</b>ential&bogus;</body></html>';
    const c = await extractContent(message(['Content-Type: text/html; charset=utf-8'], html), L);
    const t = textFrom(c, 'body:1')!;
    expect(t).toContain('Café & bar €5 A<');
    expect(t).toContain('4111\t2222');
    expect(t).toContain('confidential&bogus;');
    expect(t).not.toContain('secret');
    expect(t).not.toContain('x:1');
  });

  it('walks multiparts and encapsulated messages in order, with IMAP part numbers', async () => {
    const inner = 'Subject: =?utf-8?Q?inner_subject?=\r\nContent-Type: text/plain\r\n\r\ninner body\r\n';
    const raw = message(
      ['Subject: outer', 'Content-Type: multipart/mixed; boundary=b1'],
      '--b1\nContent-Type: multipart/alternative; boundary=b2\n\n--b2\nContent-Type: text/plain\n\nplain\n--b2\nContent-Type: text/html\n\n<p>html</p>\n--b2--\n' +
        `--b1\nContent-Type: message/rfc822\n\n${inner}\n--b1\nContent-Type: text/csv; name=list.csv\nContent-Disposition: attachment; filename=list.csv\n\nname,card\nx,4111\n--b1--\n`,
    );
    const c = await extractContent(raw, L);
    expect(c.segments.map((s) => `${s.kind} ${s.source}`)).toEqual([
      'subject subject',
      'body body:1.1',
      'body body:1.2',
      'body body:2.subject',
      'body body:2.1',
      'attachment attachment:3/list.csv',
    ]);
    expect(textFrom(c, 'body:2.subject')).toBe('inner subject');
    expect(textFrom(c, 'body:2.1')?.trim()).toBe('inner body');
    expect(textFrom(c, 'attachment:3/list.csv')).toContain('x,4111');
  });

  it('reads a base64-encoded message/rfc822 part as a message', async () => {
    const inner = 'Subject: fwd\r\nContent-Type: text/plain\r\n\r\nforwarded 4111 1111 1111 1111\r\n';
    const raw = message(['Content-Type: multipart/mixed; boundary=b'], `--b\nContent-Type: text/plain\n\nsee below\n--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n${b64(inner)}\n--b--\n`);
    const c = await extractContent(raw, L);
    expect(allText(c)).toContain('forwarded 4111 1111 1111 1111');
    expect(c.findings).toEqual([]);
  });

  it('stops at maxTextChars with a truncated finding', async () => {
    const c = await extractContent(message(['Subject: s'], 'x'.repeat(5000)), { ...L, maxTextChars: 1000 });
    expect(c.chars).toBe(1000);
    expect(findingsOf(c)).toEqual(['truncated body:1']);
  });
});

describe('extractContent: encrypted messages', () => {
  it('S/MIME enveloped-data is an encrypted-message finding', async () => {
    const c = await extractContent(fixture('enveloped.eml'), L);
    expect(c.subject).toBe('Enveloped test');
    expect(findingsOf(c)).toEqual(['encrypted-message body:1']);
    expect(allText(c)).not.toContain('4111');
  });

  it('application/pkcs7-mime without smime-type is told apart by its content type OID', async () => {
    const enveloped = Buffer.from(fixture('enveloped.eml')).toString('latin1').replace('smime-type=enveloped-data; ', '');
    expect(findingsOf(await extractContent(Buffer.from(enveloped, 'latin1'), L))).toEqual(['encrypted-message body:1']);
    const signed = Buffer.from(fixture('signed-opaque.eml')).toString('latin1').replace('smime-type=signed-data; ', '');
    const c = await extractContent(Buffer.from(signed, 'latin1'), L);
    expect(c.findings).toEqual([]);
    expect(allText(c)).toContain('4111 1111 1111 1111');
  });

  it('opaque signed S/MIME (DER and streamed BER) gives its inner content', async () => {
    for (const f of ['signed-opaque.eml', 'signed-stream.eml']) {
      const c = await extractContent(fixture(f), L);
      expect(c.findings).toEqual([]);
      expect(c.segments.find((s) => s.text.includes('4111 1111 1111 1111'))?.source).toBe('body:1!1');
    }
  });

  it('multipart/encrypted and PGP armour are encrypted-message findings', async () => {
    const pgpMime = message(
      ['Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b'],
      '--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--b\nContent-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\nhQEM\n-----END PGP MESSAGE-----\n--b--\n',
    );
    expect(findingsOf(await extractContent(pgpMime, L))).toEqual(['encrypted-message body:1']);
    const inline = message(['Content-Type: text/plain'], '-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n');
    expect(findingsOf(await extractContent(inline, L))).toEqual(['encrypted-message body:1']);
  });

  it('a broken pkcs7 body is unreadable, not a crash', async () => {
    const raw = message(['Content-Type: application/pkcs7-mime; smime-type=signed-data', 'Content-Transfer-Encoding: base64'], b64('not der at all'));
    expect(findingsOf(await extractContent(raw, L))).toEqual(['unreadable body:1']);
  });
});
