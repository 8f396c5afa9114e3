import { describe, expect, it } from 'vitest';
import { TlsPolicyMap } from './policy-map.js';

describe('TlsPolicyMap', () => {
  const map = new TlsPolicyMap({ 'example.org': 'verify', '.example.org': 'encrypt', '.deep.example.org': 'dane-only', 'Bank.Test.': 'dane' });

  it('matches a domain exactly, its subdomains through the dotted key, most specific first', () => {
    expect(map.lookup('example.org')).toEqual({ level: 'verify', matched: 'example.org' });
    expect(map.lookup('mail.example.org')).toEqual({ level: 'encrypt', matched: '.example.org' });
    expect(map.lookup('a.deep.example.org')).toEqual({ level: 'dane-only', matched: '.deep.example.org' });
    expect(map.lookup('deep.example.org')).toEqual({ level: 'encrypt', matched: '.example.org' });
    expect(map.lookup('BANK.test')).toEqual({ level: 'dane', matched: 'bank.test' });
  });

  it('falls back to the default and never matches a mere suffix', () => {
    expect(map.lookup('notexample.org')).toEqual({ level: 'may', matched: null });
    expect(map.lookup('sub.bank.test')).toEqual({ level: 'may', matched: null });
    expect(new TlsPolicyMap({}, 'encrypt').lookup('x.test').level).toBe('encrypt');
  });

  it('refuses unknown levels', () => {
    expect(() => new TlsPolicyMap({ 'x.test': 'secure' })).toThrow(/unknown TLS policy level/);
  });
});
