import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMailboxUtf7, encodeMailboxUtf7 } from './mutf7.js';

describe('modified UTF-7', () => {
  it.each([
    ['~peter/mail/日本語/台北', '~peter/mail/&ZeVnLIqe-/&U,BTFw-'],
    ['Entwürfe', 'Entw&APw-rfe'],
    ['A&B', 'A&-B'],
    ['INBOX', 'INBOX'],
    ['', ''],
    ['😀', '&2D3eAA-'],
    ['tab\there', 'tab&AAk-here'],
  ])('%j <-> %j', (name, wire) => {
    expect(encodeMailboxUtf7(name)).toBe(wire);
    expect(decodeMailboxUtf7(wire)).toBe(name);
  });

  it.each([
    ['&Jjo!', 'unterminated'],
    ['&AGE-', 'encodes printable ASCII'],
    ['&ZeVnLIqe-&U,BTFw-', 'adjacent encoded runs'],
    ['&ZeVnLIqe=-', 'invalid base64 char'],
    ['&U,BTFx-', 'non-zero padding bits'],
    ['&2D0-', 'lone high surrogate'],
    ['caf\u00e9', 'raw 8-bit'],
    ['a\tb', 'raw control'],
    ['&A-', 'too short'],
  ])('rejects %j (%s)', (wire) => {
    expect(decodeMailboxUtf7(wire)).toBeNull();
  });

  it('round-trips any well-formed name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (name) => {
        const wire = encodeMailboxUtf7(name);
        expect(wire).toMatch(/^[\x20-\x7e]*$/);
        expect(decodeMailboxUtf7(wire)).toBe(name);
      }),
    );
  });
});
