import { describe, expect, it } from 'vitest';
import { decodeSaslPlain } from './sasl-plain.js';

const enc = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('decodeSaslPlain', () => {
  it('splits authzid, authcid and password', () => {
    expect(decodeSaslPlain(enc('\0alice@example.org\0pa ss wörd'))).toEqual({ ok: true, authzid: '', authcid: 'alice@example.org', password: 'pa ss wörd' });
    expect(decodeSaslPlain(enc('a@x\0a@x\0p'))).toEqual({ ok: true, authzid: 'a@x', authcid: 'a@x', password: 'p' });
  });

  it.each([
    ['empty response', '='],
    ['not base64', 'not base64!'],
    ['two fields', enc('alice\0secret')],
    ['four fields', enc('\0alice\0secret\0more')],
    ['empty user', enc('\0\0secret')],
    ['empty password', enc('\0alice\0')],
    ['invalid UTF-8', Buffer.from([0, 0x61, 0, 0xff, 0xfe]).toString('base64')],
  ])('refuses %s', (_what, input) => {
    expect(decodeSaslPlain(input).ok).toBe(false);
  });
});
