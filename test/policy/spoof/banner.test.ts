import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePartText, listParts, parseMessage } from '../../../src/codec/mime/index.js';
import { addBanner } from '../../../src/policy/spoof/index.js';

const BANNER = 'CAUTION: this message claims to come from ceo@example.test.';
const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '../../corpus/spoof');

const HEAD = ['From: a@vendor.test', 'To: b@example.test', 'Subject: s', 'MIME-Version: 1.0'];
const msg = (headers: string[], body: string, eol = '\r\n'): Buffer => Buffer.from([...HEAD, ...headers].join(eol) + eol + eol + body.replace(/\r?\n/g, eol), 'utf8');

/** Decoded text of every text part, in order. */
function texts(raw: Uint8Array): string[] {
  const m = parseMessage(raw);
  return listParts(m).filter(({ part }) => part.contentType.type === 'text').map(({ part }) => decodePartText(m, part));
}

/** Python's email package: the defects it finds in all parts and the text of every text part. */
function python(raw: Uint8Array): { defects: string[]; texts: string[] } {
  const script = [
    'import sys, json, email, email.policy',
    'm = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)',
    'parts = list(m.walk())',
    'print(json.dumps({"defects": [type(d).__name__ for p in parts for d in p.defects],',
    '  "texts": [p.get_content() for p in parts if p.get_content_maintype() == "text"]}))',
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: raw, timeout: 20_000 }).toString()) as { defects: string[]; texts: string[] };
}

/** Python's view of a message we built: no defects, the texts. */
function pythonTexts(raw: Uint8Array): string[] {
  const p = python(raw);
  expect(p.defects).toEqual([]);
  return p.texts.map((t) => t.replace(/\r\n/g, '\n'));
}

function banner(raw: Uint8Array, text = BANNER): Uint8Array {
  const out = addBanner(raw, text);
  expect(out).not.toBeNull();
  return out!;
}

describe('addBanner', () => {
  it('puts a plain block before a 7bit text/plain body', () => {
    const out = banner(msg(['Content-Type: text/plain; charset=us-ascii'], 'Hello Bob.\n'));
    expect(texts(out)).toEqual([`${BANNER}\r\n\r\nHello Bob.\r\n`]);
    expect(pythonTexts(out)[0]).toMatch(/^CAUTION: this message claims .*\n\nHello Bob\.\n$/);
  });

  it('keeps LF line ends and an 8bit UTF-8 body', () => {
    const out = banner(msg(['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'], 'Grüße\n', '\n'));
    expect(Buffer.from(out).includes('\r\n')).toBe(false);
    expect(texts(out)[0]).toBe(`${BANNER}\n\nGrüße\n`);
    expect(pythonTexts(out)[0]).toBe(`${BANNER}\n\nGrüße\n`);
  });

  it('re-encodes a base64 part', () => {
    const body = Buffer.from('Héllo wörld, ' + 'long line '.repeat(30) + '\r\n').toString('base64').replace(/.{76}/g, '$&\r\n');
    const out = banner(msg(['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64'], body + '\r\n'));
    const [t] = texts(out);
    expect(t).toMatch(/^CAUTION: .*\r\n\r\nHéllo wörld, long line/);
    expect(pythonTexts(out)[0]).toMatch(/^CAUTION: .*\n\nHéllo wörld, long line/);
    for (const line of Buffer.from(out).toString('latin1').split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
  });

  it('re-encodes a quoted-printable part in its own charset', () => {
    const out = banner(msg(['Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable'], 'Gr=FC=DFe aus M=FCnchen=\r\n und mehr \r\n'));
    expect(texts(out)[0]).toBe(`${BANNER}\r\n\r\nGrüße aus München und mehr\r\n`);
    expect(pythonTexts(out)[0]).toBe(`${BANNER}\n\nGrüße aus München und mehr\n`);
  });

  it('puts a div right after <body> in HTML, escaping the text', () => {
    const out = banner(msg(['Content-Type: text/html; charset=utf-8'], '<!DOCTYPE html><html><head><title>t</title></head><BODY class="x"><p>Hi</p></BODY></html>\n'), 'CAUTION: <b>"x"</b> & y');
    const html = texts(out)[0]!;
    expect(html).toMatch(/<BODY class="x">\r\n<div [^>]*>CAUTION: &lt;b&gt;&quot;x&quot;&lt;\/b&gt; &amp; y<\/div>\r\n<p>Hi<\/p>/);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('changes both parts of multipart/alternative and only the body of multipart/mixed', () => {
    const body = [
      '--outer', 'Content-Type: multipart/alternative; boundary=inner', '',
      '--inner', 'Content-Type: text/plain; charset=utf-8', '', 'Plain text', '--inner', 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64', '',
      Buffer.from('<html><body><p>Html text</p></body></html>').toString('base64'), '--inner--', '',
      '--outer', 'Content-Type: text/plain; name=notes.txt', 'Content-Disposition: attachment; filename=notes.txt', '', 'attached notes', '--outer--', '',
    ].join('\r\n');
    const raw = msg(['Content-Type: multipart/mixed; boundary=outer'], body);
    const out = banner(raw);
    const t = texts(out);
    expect(t[0]).toBe(`${BANNER}\r\n\r\nPlain text`);
    expect(t[1]).toContain('<body>\r\n<div');
    expect(t[1]).toContain('</div>\r\n<p>Html text</p>');
    expect(t[2]).toBe('attached notes');
    expect(parseMessage(out).partCount).toBe(parseMessage(raw).partCount);
    const py = pythonTexts(out);
    expect(py[0]).toBe(`${BANNER}\n\nPlain text`);
    expect(py[2]).toBe('attached notes');
  });

  it('wraps long banners and writes only ASCII', () => {
    const out = banner(msg(['Content-Type: text/plain'], 'x\n'), `CAUTION: ${'wörd '.repeat(40)}\u202e\u0000end`);
    const s = Buffer.from(out).toString('latin1');
    expect(texts(out)[0]).toMatch(/^CAUTION: w\?rd w\?rd .*\r\nw\?rd .*end\r\n\r\nx\r\n$/s);
    expect(s).toMatch(/^[\x20-\x7e\r\n]*$/);
    for (const line of s.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
  });

  it('never touches signed or encrypted mail', () => {
    const signed = msg(['Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary=s'], '--s\nContent-Type: text/plain\n\nsigned text\n--s\nContent-Type: application/pkcs7-signature\n\nAAAA\n--s--\n');
    expect(addBanner(signed, BANNER)).toBeNull();
    const enveloped = msg(['Content-Type: application/pkcs7-mime; smime-type=enveloped-data', 'Content-Transfer-Encoding: base64'], 'MIAGCSqGSIb3DQEHA6CAMIACAQA=\n');
    expect(addBanner(enveloped, BANNER)).toBeNull();
    expect(addBanner(readFileSync(join(CORPUS, 'mimekit-gnupg-2.1.20-announce.eml')), BANNER)).toBeNull();
  });

  it('refuses what it cannot do safely', () => {
    expect(addBanner(msg(['Content-Type: text/plain; charset=utf-16'], 'x'), BANNER)).toBeNull();
    expect(addBanner(msg(['Content-Type: text/plain', 'Content-Transfer-Encoding: x-uuencode'], 'x'), BANNER)).toBeNull();
    expect(addBanner(msg(['Content-Type: application/pdf'], 'x'), BANNER)).toBeNull();
    expect(addBanner(msg(['Content-Type: text/plain'], 'x'), '')).toBeNull();
    expect(addBanner(msg(['Content-Type: text/plain'], 'x'.repeat(2000)), BANNER, { maxBytes: 1000 })).toBeNull();
    let deep = 'deepest\r\n';
    for (let i = 0; i < 12; i++) deep = `--b${i}\r\nContent-Type: ${i === 0 ? 'text/plain' : `multipart/mixed; boundary=b${i - 1}`}\r\n\r\n${deep}\r\n--b${i}--\r\n`;
    expect(addBanner(msg(['Content-Type: multipart/mixed; boundary=b11'], deep), BANNER)).toBeNull();
    expect(addBanner(Buffer.from('no header at all'), BANNER)).toBeNull();
  });

  it('keeps real messages valid', () => {
    for (const name of ['gmail-real.msg', 'flanker-iphone.eml', 'flanker-bilingual-simple.eml', 'flanker-8bitmime.eml']) {
      const raw = readFileSync(join(CORPUS, name));
      const out = banner(raw);
      expect(parseMessage(out).partCount, name).toBe(parseMessage(raw).partCount);
      expect(texts(out)[0], name).toMatch(/^CAUTION: /);
      const before = python(raw);
      const after = python(out);
      expect(after.defects, name).toEqual(before.defects);
      expect(after.texts[0], name).toMatch(/^CAUTION: /);
      expect(after.texts.length, name).toBe(before.texts.length);
    }
  });

  it('never throws, and what it returns has the same structure', () => {
    const piece = fc.constantFrom('Content-Type: multipart/mixed; boundary=b\r\n', 'Content-Type: text/plain\r\n', 'Content-Type: text/html\r\n',
      'Content-Transfer-Encoding: base64\r\n', 'Content-Transfer-Encoding: quoted-printable\r\n', '\r\n', '--b\r\n', '--b--\r\n', '<body>', 'text=\r\n', 'QUJD\r\n', '=FF', 'x');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
        const raw = Buffer.from(`From: a@b.test\r\n${pieces.join('')}`);
        const out = addBanner(raw, BANNER);
        if (out) expect(parseMessage(out).partCount).toBe(parseMessage(raw).partCount);
      }),
      { numRuns: 300 },
    );
  });
});
