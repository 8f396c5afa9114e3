import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { crlDistributionPoint } from './public-https.js';

const MIN = '[server]\nhostname = "mail.example.org"\n';

function errors(text: string): string[] {
  const r = parseConfig(text, '/etc/postern');
  return r.ok ? [] : r.errors.map((e) => `${e.key}: ${e.reason}`);
}

describe('[mta_sts] and [pki]', () => {
  it('defaults to a testing policy for server.hostname, cached a week, and no CRL URL', () => {
    const r = parseConfig(MIN, '/etc/postern');
    if (!r.ok) throw new Error('unexpected errors');
    expect(r.config.mta_sts).toEqual({ enabled: true, mode: 'testing', max_age: 604800, mx: [] });
    expect(r.config.pki).toEqual({});
    expect(crlDistributionPoint(r.config)).toBeNull();
  });

  it('takes a mode, MX names and wildcard patterns, and a CRL URL', () => {
    const r = parseConfig(`${MIN}[mta_sts]\nmode = "enforce"\nmax_age = 86400\nmx = ["mail.example.org", "*.mx.example.org"]\n[pki]\ncrl_url = "http://mail.example.org/pki/crl.crl"\n`, '/etc/postern');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.mta_sts).toMatchObject({ mode: 'enforce', max_age: 86400, mx: ['mail.example.org', '*.mx.example.org'] });
    expect(crlDistributionPoint(r.config)).toBe('http://mail.example.org/pki/crl.crl');
  });

  it('names each wrong key and the reason', () => {
    const e = errors(`${MIN}[mta_sts]\nmode = "strict"\nmax_age = 31557601\nmx = ["Mail.example.org", "a..b"]\n[pki]\ncrl_url = "ftp://x.example.org/crl"\n`);
    expect(e).toContainEqual(expect.stringMatching(/^mta_sts\.mode: expected one of "testing", "enforce", "none"/));
    expect(e).toContainEqual(expect.stringMatching(/^mta_sts\.max_age: expected a whole number from 86400 to 31557600/));
    expect(e).toContainEqual(expect.stringMatching(/^mta_sts\.mx: expected a list of up to 32 lower-case MX host names/));
    expect(e).toContainEqual(expect.stringMatching(/^pki\.crl_url: expected an http:\/\/ or https:\/\/ URL/));
    for (const bad of ['http://user:pw@x.example.org/crl', 'http://x.example.org/crl#a', 'https://x.example.org/a b', 'not a url']) {
      expect(errors(`${MIN}[pki]\ncrl_url = ${JSON.stringify(bad)}\n`)).toContainEqual(expect.stringMatching(/^pki\.crl_url: /));
    }
  });
});
