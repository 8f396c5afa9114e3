import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pki, makePki, openssl, opensslStatus } from '../../../test/support/smime-pki.js';
import { decryptData } from './decrypt.js';
import { splitEntity } from './entity.js';
import { decryptMessage, encryptMessage, signMessage } from './message.js';
import { parseSmime, pkcs7MimeEntity, signEntity, verifySmime } from './mime.js';

// RFC 8551 MIME forms, checked against OpenSSL's S/MIME reader and writer.
let pki: Pki;
beforeAll(() => {
  pki = makePki();
});
afterAll(() => pki.cleanup());

const MESSAGE = Buffer.from(
  'Received: from mx.example.test by postern; Fri, 4 Dec 2026 10:00:00 +0000\r\n' +
    'From: Alice <rsa@example.test>\r\n' +
    'To: Bob <p256@example.test>\r\n' +
    'Cc: carol@example.test\r\n' +
    'Subject: Quarterly numbers\r\n' +
    'Date: Fri, 4 Dec 2026 10:00:00 +0000\r\n' +
    'Message-ID: <q4@example.test>\r\n' +
    'X-Mailer: hand\r\n' +
    'MIME-Version: 1.0\r\n' +
    'Content-Type: text/plain;\r\n charset=utf-8\r\n' +
    'Content-Transfer-Encoding: 8bit\r\n' +
    '\r\n' +
    'Revenue is up 4 %.\r\nÜber alles: grüße.\r\n',
);
const INNER = Buffer.from('Content-Type: text/plain;\r\n charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nRevenue is up 4 %.\r\nÜber alles: grüße.\r\n');

const file = (name: string, data: Uint8Array | string): string => {
  const f = join(pki.dir, name);
  writeFileSync(f, data);
  return f;
};
const opensslVerifySmime = (msg: Uint8Array) => opensslStatus(['cms', '-verify', '-in', file('msg.eml', msg), '-CAfile', pki.rootFile, '-purpose', 'smimesign']);

describe('multipart/signed', () => {
  it('signEntity output is accepted by openssl cms -verify, and parses back to the exact entity', () => {
    const signed = signEntity(INNER, { certificate: pki.rsa.certPem, key: pki.rsa.keyPem, chain: [pki.interPem] });
    const text = Buffer.from(signed).toString('latin1');
    expect(text).toMatch(/^Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"; micalg=sha-256;\r\n boundary="/);
    const r = opensslVerifySmime(signed);
    expect(r.status).toBe(0);
    const parts = parseSmime(signed);
    expect(parts.kind).toBe('signed');
    if (parts.kind === 'signed') expect(Buffer.from(parts.signedEntity).equals(INNER)).toBe(true);
    expect(verifySmime(signed, { anchors: [pki.rootPem] }).status).toBe('valid');
  });

  it('micalg follows the key: sha-384 for P-384', () => {
    const signed = Buffer.from(signEntity(INNER, { certificate: pki.p384.certPem, key: pki.p384.keyPem, chain: [pki.interPem] })).toString('latin1');
    expect(signed).toContain('micalg=sha-384');
    expect(opensslVerifySmime(Buffer.from(signed, 'latin1')).status).toBe(0);
  });

  it('signMessage keeps the outer fields; a changed body byte: openssl refuses, postern says tampered', () => {
    const signed = Buffer.from(signMessage(MESSAGE, { certificate: pki.p256.certPem, key: pki.p256.keyPem, chain: [pki.interPem] }));
    expect(signed.toString('latin1')).toMatch(/^Received: .*\r\nFrom: Alice/);
    expect(opensslVerifySmime(signed).status).toBe(0);
    const v = verifySmime(signed, { anchors: [pki.rootPem] });
    expect(v.status).toBe('valid');
    expect(Buffer.from(v.entity!).equals(INNER)).toBe(true);
    const at = signed.indexOf(Buffer.from('Revenue is up 4'));
    signed[at + 14] = 0x35; // 4 % -> 5 %
    expect(opensslVerifySmime(signed).status).not.toBe(0);
    expect(verifySmime(signed, { anchors: [pki.rootPem] }).status).toBe('tampered');
  });

  it('verifies openssl cms -sign S/MIME output, detached and opaque, also after LF conversion', () => {
    const input = file('inner.txt', INNER);
    const detached = openssl(['cms', '-sign', '-in', input, '-signer', pki.rsa.certFile, '-inkey', pki.rsa.keyFile, '-certfile', pki.interFile, '-binary']);
    expect(detached.toString('latin1')).toMatch(/multipart\/signed/);
    const v = verifySmime(detached, { anchors: [pki.rootPem] });
    expect(v.status).toBe('valid');
    expect(Buffer.from(v.entity!).equals(INNER)).toBe(true);
    // A store or MUA that rewrote CRLF to LF must not break the signature (canonical form is signed).
    const lf = Buffer.from(detached.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    expect(verifySmime(lf, { anchors: [pki.rootPem] }).status).toBe('valid');

    const opaque = openssl(['cms', '-sign', '-nodetach', '-in', input, '-signer', pki.p256.certFile, '-inkey', pki.p256.keyFile, '-certfile', pki.interFile, '-binary']);
    expect(opaque.toString('latin1')).toMatch(/smime-type="?signed-data/);
    const o = verifySmime(opaque, { anchors: [pki.rootPem] });
    expect(o.status).toBe('valid');
    expect(o.kind).toBe('opaque');
    expect(Buffer.from(o.entity!).equals(INNER)).toBe(true);
  });

  it('opaque signEntity output is accepted by openssl', () => {
    const signed = signEntity(INNER, { certificate: pki.rsa.certPem, key: pki.rsa.keyPem, chain: [pki.interPem], opaque: true });
    const r = opensslVerifySmime(signed);
    expect(r.status).toBe(0);
    expect(r.stdout.equals(INNER)).toBe(true);
  });
});

describe('application/pkcs7-mime', () => {
  it('has the RFC 8551 header fields and base64 in 76-column CRLF lines', () => {
    const der = new Uint8Array(500).map((_, i) => i & 0xff);
    const text = Buffer.from(pkcs7MimeEntity(der, 'enveloped-data')).toString('latin1');
    const [head, body] = text.split('\r\n\r\n');
    expect(head).toBe('Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=smime.p7m');
    const lines = body!.split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines.slice(0, -1).every((l) => l.length === 76)).toBe(true);
    expect(lines.at(-1)!.length).toBeLessThanOrEqual(76);
    const parsed = parseSmime(Buffer.from(text, 'latin1'));
    expect(parsed).toEqual({ kind: 'pkcs7-mime', smimeType: 'enveloped-data', der: new Uint8Array(Buffer.from(der)) });
  });
});

describe('encryptMessage', () => {
  it('keeps the chosen outer fields and encrypts Content-* + body; openssl recovers the inner entity exactly', () => {
    const enc = Buffer.from(encryptMessage(MESSAGE, { recipients: [{ certificate: pki.p256.certPem }, { certificate: pki.rsa.certPem }], outerFields: ['From', 'To', 'Cc', 'Date', 'Subject', 'Message-ID'] }));
    const text = enc.toString('latin1');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(head.split('\r\n').map((l) => l.split(':')[0])).toEqual(['From', 'To', 'Cc', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding', 'Content-Disposition']);
    expect(head).toContain('smime-type=authEnveloped-data; name=smime.p7m');
    expect(text).not.toContain('Revenue');
    expect(text).not.toContain('X-Mailer');
    for (const p of [pki.p256, pki.rsa]) {
      const r = opensslStatus(['cms', '-decrypt', '-in', file('enc.eml', enc), '-recip', p.certFile, '-inkey', p.keyFile, '-binary']);
      expect(r.stderr).toBe('');
      expect(r.stdout.equals(INNER)).toBe(true);
    }
    const back = decryptMessage(enc, { certificate: pki.p256.certPem, key: pki.p256.keyPem });
    expect(back.ok).toBe(true);
    if (back.ok) {
      const e = splitEntity(back.message);
      expect(e.fields.map((f) => f.name)).toEqual(['From', 'To', 'Cc', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding']);
      expect(Buffer.from(e.body).equals(Buffer.from('Revenue is up 4 %.\r\nÜber alles: grüße.\r\n'))).toBe(true);
    }
  });

  it('CBC gives enveloped-data; innerFields "all" protects the fields that stay out', () => {
    const enc = encryptMessage(MESSAGE, { recipients: [{ certificate: pki.rsa.certPem }], cipher: 'aes-256-cbc', outerFields: ['From', 'To'], innerFields: 'all' });
    expect(Buffer.from(enc).toString('latin1')).toContain('smime-type=enveloped-data');
    const parts = parseSmime(enc);
    expect(parts.kind).toBe('pkcs7-mime');
    const r = decryptData(parts.kind === 'pkcs7-mime' ? parts.der : new Uint8Array(), { certificate: pki.rsa.certPem, key: pki.rsa.keyPem });
    expect(r.ok).toBe(true);
    if (r.ok) expect(Buffer.from(r.content).toString('latin1')).toMatch(/^Received: [^]*X-Mailer: hand\r\nContent-Type: text\/plain;/);
  });

  it('decrypts openssl cms -encrypt S/MIME output', () => {
    const enc = openssl(['cms', '-encrypt', '-in', file('inner2.txt', INNER), '-aes-256-gcm', '-recip', pki.p384.certFile, '-binary', '-from', 'a@example.test', '-subject', 'hi']);
    const back = decryptMessage(enc, { certificate: pki.p384.certPem, key: pki.p384.keyPem });
    expect(back.ok).toBe(true);
    if (back.ok) expect(Buffer.from(back.message).toString('latin1')).toMatch(/^From: a@example.test\r\nSubject: hi\r\nMIME-Version: 1.0\r\nContent-Type: text\/plain;/);
  });
});

describe('parsers on hostile input', () => {
  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const p = parseSmime(bytes);
        expect(['signed', 'pkcs7-mime', 'none', 'malformed']).toContain(p.kind);
        expect(['valid', 'invalid', 'untrusted', 'tampered', 'malformed']).toContain(verifySmime(bytes, { anchors: [pki.rootPem] }).status);
      }),
      { numRuns: 300 },
    );
  });

  it('MIME-shaped junk never throws and is never valid', () => {
    const piece = fc.constantFrom('Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=b\r\n', 'Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n', 'Content-Transfer-Encoding: base64\r\n', '\r\n', '--b\r\n', '--b--\r\n', 'MIIB', '\n', 'x: y\r\n', '=\r\n', 'Content-Type: application/pkcs7-signature\r\n');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const v = verifySmime(Buffer.from(pieces.join('')), { anchors: [pki.rootPem] });
        expect(v.status).not.toBe('valid');
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseSmime on hand-made multipart/signed', () => {
  const sig = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]).toString('base64');
  const make = (eol: string, boundary = 'b1') =>
    Buffer.from(
      [
        `Content-Type: multipart/signed; protocol="application/x-pkcs7-signature"; micalg=sha-256; boundary="${boundary}"`,
        '',
        'preamble',
        `--${boundary}x`, // a longer boundary is not ours
        `--${boundary}  `, // transport padding after the delimiter is allowed
        'Content-Type: text/plain',
        '',
        'line 1',
        '',
        `--${boundary}`,
        'Content-Type: application/pkcs7-signature',
        'Content-Transfer-Encoding: base64',
        '',
        sig,
        `--${boundary}--`,
        'epilogue',
      ].join(eol),
      'latin1',
    );

  it('takes the first part exactly, without the line break that belongs to the next delimiter (CRLF and LF)', () => {
    for (const eol of ['\r\n', '\n']) {
      const p = parseSmime(make(eol));
      expect(p.kind).toBe('signed');
      if (p.kind !== 'signed') continue;
      expect(Buffer.from(p.signedEntity).toString('latin1')).toBe(['Content-Type: text/plain', '', 'line 1', ''].join(eol));
      expect(Buffer.from(p.signature).toString('base64')).toBe(sig);
      expect(p.protocol).toBe('application/x-pkcs7-signature');
    }
  });

  it('refuses a wrong protocol, a missing closing delimiter, and a non-signature second part', () => {
    const text = make('\r\n').toString('latin1');
    expect(parseSmime(Buffer.from(text.replace('protocol="application/x-pkcs7-signature"', 'protocol="application/pgp-signature"'))).kind).toBe('malformed');
    expect(parseSmime(Buffer.from(text.replace('--b1--', '--b1-x'))).kind).toBe('malformed');
    expect(parseSmime(Buffer.from(text.replace('Content-Type: application/pkcs7-signature', 'Content-Type: text/plain'))).kind).toBe('malformed');
  });
});
