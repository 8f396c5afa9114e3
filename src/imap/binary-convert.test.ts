import { describe, expect, it } from 'vitest';
import { findPart, parseMessage } from '../codec/mime/index.js';
import { binaryBody } from './binary-convert.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

describe('binaryBody', () => {
  it('decodes every base64 and quoted-printable leaf and keeps the rest as stored', () => {
    const msg = crlf([
      'Content-Type: multipart/mixed; boundary=o',
      '',
      'preamble',
      '--o',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      'Content-Type: multipart/alternative; boundary=i',
      '',
      '--i',
      'Content-Type: text/plain',
      'Content-Transfer-Encoding:',
      ' base64',
      'X-After: kept',
      '',
      Buffer.from('hello world').toString('base64'),
      '--i',
      'Content-Type: text/plain',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'caf=C3=A9 =',
      'au lait',
      '--i',
      'Content-Type: text/plain',
      '',
      'plain as stored',
      '--i--',
      'inner epilogue',
      '--o--',
      '',
    ]);
    const mime = parseMessage(msg);
    expect(binaryBody(mime, findPart(mime, [1])!).toString('latin1')).toBe(
      [
        'Subject: inner',
        'Content-Type: multipart/alternative; boundary=i',
        '',
        '--i',
        'Content-Type: text/plain',
        'Content-Transfer-Encoding: binary',
        'X-After: kept',
        '',
        'hello world',
        '--i',
        'Content-Type: text/plain',
        'Content-Transfer-Encoding: binary',
        '',
        Buffer.from('café au lait', 'utf8').toString('latin1'),
        '--i',
        'Content-Type: text/plain',
        '',
        'plain as stored',
        '--i--',
        'inner epilogue',
      ].join('\r\n'),
    );
    // A message with nothing to decode comes back byte for byte.
    const plain = crlf(['Content-Type: multipart/mixed; boundary=x', '', '--x', '', 'a', '--x--', '']);
    const pm = parseMessage(plain);
    expect(binaryBody(pm, pm.root)).toEqual(plain.subarray(pm.root.bodyStart));
  });
});
