import { describe, expect, it } from 'vitest';
import { capabilities } from './capa.js';

describe('capabilities', () => {
  it('before TLS on port 110: STLS, and no USER or SASL', () => {
    const c = capabilities({ stlsOffered: true, secure: false, authenticated: false });
    expect(c).toContain('STLS');
    expect(c.filter((l) => l === 'USER' || l.startsWith('SASL'))).toEqual([]);
  });

  it('inside TLS: USER and SASL PLAIN, no STLS', () => {
    for (const stlsOffered of [true, false]) {
      const c = capabilities({ stlsOffered, secure: true, authenticated: false });
      expect(c).toEqual(['USER', 'SASL PLAIN', 'TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE NEVER', 'UTF8 USER', 'IMPLEMENTATION postern']);
    }
  });

  it('after login: no login mechanisms and no STLS', () => {
    const c = capabilities({ stlsOffered: true, secure: true, authenticated: true });
    expect(c).not.toContain('USER');
    expect(c).not.toContain('STLS');
    expect(c).toContain('UIDL');
    expect(c).not.toContain('UTF8 USER'); // RFC 6856: a command of the AUTHORIZATION state only
  });
});
