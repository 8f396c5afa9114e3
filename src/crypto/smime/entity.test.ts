import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Lines, canonicalize, decodeBase64, parseContentType, splitEntity } from './entity.js';

const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const s = (u: Uint8Array): string => Buffer.from(u).toString('latin1');

describe('canonicalize', () => {
  it('turns bare LF and bare CR into CRLF and leaves CRLF alone', () => {
    expect(s(canonicalize(b('a\nb\r\nc\rd\n\r')))).toBe('a\r\nb\r\nc\r\nd\r\n\r\n');
  });

  it('is idempotent and leaves no bare line ends', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const once = canonicalize(bytes);
        expect(s(canonicalize(once))).toBe(s(once));
        expect(/\r(?!\n)|(?<!\r)\n/.test(s(once))).toBe(false);
      }),
    );
  });
});

describe('splitEntity', () => {
  it('keeps each field raw (with folding) and unfolds the value', () => {
    const e = splitEntity(b('Content-Type: text/plain;\r\n charset=utf-8\r\nX: 1\r\n\r\nbody\r\n'));
    expect(e.fields.map((f) => [f.name, f.value, s(f.raw)])).toEqual([
      ['Content-Type', 'text/plain; charset=utf-8', 'Content-Type: text/plain;\r\n charset=utf-8\r\n'],
      ['X', '1', 'X: 1\r\n'],
    ]);
    expect(s(e.body)).toBe('body\r\n');
  });

  it('reads LF-only entities and entities without a header section', () => {
    expect(s(splitEntity(b('A: b\n\nbody')).body)).toBe('body');
    expect(splitEntity(b('just text\r\n')).fields).toEqual([]);
  });

  it('refuses a broken header line after real fields', () => {
    expect(() => splitEntity(b('A: b\r\nnot a field\r\n\r\n'))).toThrow(/not a header field/);
  });

  it('never throws anything but its own error on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (bytes) => {
        try {
          splitEntity(bytes);
        } catch (err) {
          expect((err as Error).name).toBe('EntityError');
        }
      }),
    );
  });
});

describe('parseContentType', () => {
  it('lower-cases type and parameter names, unquotes values, keeps the first of a repeated parameter', () => {
    expect(parseContentType('Multipart/Signed; Protocol="application/pkcs7-signature"; micalg=SHA-256; boundary="a \\"b\\""; boundary=x')).toEqual({
      type: 'multipart/signed',
      params: { protocol: 'application/pkcs7-signature', micalg: 'SHA-256', boundary: 'a "b"' },
    });
  });

  it('defaults to text/plain and skips junk parameters', () => {
    expect(parseContentType(undefined).type).toBe('text/plain');
    expect(parseContentType('text/html; ;; =x; charset=utf-8').params).toEqual({ charset: 'utf-8' });
  });
});

describe('base64', () => {
  it('round-trips with 76-column lines', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const text = base64Lines(bytes);
        expect(text.split('\r\n').every((l) => l.length <= 76)).toBe(true);
        expect(Buffer.from(decodeBase64(b(text))).equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });

  it('refuses characters outside the alphabet', () => {
    expect(() => decodeBase64(b('QUJD*'))).toThrow(/alphabet/);
  });
});
