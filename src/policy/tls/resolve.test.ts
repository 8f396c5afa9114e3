import { describe, expect, it } from 'vitest';
import { MemoryResolver } from '../../net/dns/memory.js';
import { TlsPolicyMap } from './policy-map.js';
import { raiseForRequireTls, TlsPolicyResolver } from './resolve.js';
import type { StsLookup, StsResolver } from './mta-sts/resolver.js';

const tlsa = { usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 1) };
const dns = new MemoryResolver({
  '_25._tcp.mx.secure.test': { TLSA: [tlsa], secure: true },
  '_25._tcp.mx.pkix.test': { TLSA: [{ ...tlsa, usage: 1 }], secure: true },
  '_25._tcp.mx.insecure.test': { TLSA: [tlsa], secure: false },
  '_25._tcp.mx.broken.test': { fail: ['TLSA'] },
});
const fakeSts = (l: StsLookup) => ({ lookup: async () => l }) as unknown as StsResolver;
const enforce: StsLookup = { kind: 'policy', id: '1', fromCache: false, policy: { mode: 'enforce', mx: ['*.sts.test'], maxAge: 60, lines: ['version: STSv1'] } };

async function host(level: string, mx: string, authenticated = true, sts: StsLookup = { kind: 'none' }) {
  const r = new TlsPolicyResolver(new TlsPolicyMap({ 'd.test': level }), dns, fakeSts(sts));
  return r.forHost(await r.forDomain('d.test'), { host: mx, authenticated }, 25);
}

describe('TlsPolicyResolver.forHost', () => {
  it('maps the fixed levels', async () => {
    expect(await host('none', 'mx.any.test')).toMatchObject({ tls: 'off', auth: 'none' });
    expect(await host('may', 'mx.any.test')).toMatchObject({ tls: 'opportunistic', auth: 'none', report: { type: 'no-policy-found' } });
    expect(await host('encrypt', 'mx.any.test')).toMatchObject({ tls: 'required', auth: 'none' });
    expect(await host('verify', 'mx.any.test')).toMatchObject({ tls: 'required', auth: 'pkix', names: ['mx.any.test'] });
  });

  it('uses DNSSEC-authenticated TLSA records only, for secure MX hosts only', async () => {
    expect(await host('dane', 'mx.secure.test')).toMatchObject({ tls: 'required', auth: 'dane', tlsa: [tlsa], report: { type: 'tlsa' } });
    expect(await host('dane', 'mx.secure.test', false)).toMatchObject({ level: 'may', tls: 'opportunistic' });
    expect(await host('dane', 'mx.insecure.test')).toMatchObject({ level: 'may', auth: 'none' });
    expect(await host('dane-only', 'mx.insecure.test')).toMatchObject({ refused: true, resultType: 'dane-required' });
    expect(await host('dane', 'mx.none.test')).toMatchObject({ level: 'may' });
    expect(await host('dane-only', 'mx.none.test')).toMatchObject({ refused: true, resultType: 'dane-required' });
    // Only unusable (PKIX) records: TLS still mandatory, unauthenticated.
    expect(await host('dane', 'mx.pkix.test')).toMatchObject({ tls: 'required', auth: 'none' });
    // A failing TLSA lookup in a secure zone never falls back.
    expect(await host('dane', 'mx.broken.test')).toMatchObject({ refused: true, resultType: 'dnssec-invalid' });
  });

  it('applies MTA-STS: enforce matches MX patterns, testing only warns, errors are reported', async () => {
    expect(await host('mta-sts', 'mx1.sts.test', false, enforce)).toMatchObject({ tls: 'required', auth: 'pkix', enforce: true, report: { type: 'sts' } });
    expect(await host('mta-sts', 'mx1.evil.test', false, enforce)).toMatchObject({ refused: true, resultType: 'mx-mismatch' });
    const testing: StsLookup = { ...enforce, policy: { ...enforce.policy, mode: 'testing' } } as StsLookup;
    expect(await host('mta-sts', 'mx1.evil.test', false, testing)).toMatchObject({ enforce: false, auth: 'pkix', warning: { resultType: 'validation-failure' } });
    expect(await host('mta-sts', 'mx1.sts.test', false, { kind: 'error', resultType: 'sts-policy-fetch-error', reason: 'x' })).toMatchObject({ level: 'may', warning: { resultType: 'sts-policy-fetch-error' } });
    expect(await host('mta-sts', 'mx1.sts.test', false, { kind: 'none' })).toMatchObject({ level: 'may', tls: 'opportunistic' });
  });
});

describe('raiseForRequireTls', () => {
  it('requires verified TLS and a protected route', async () => {
    expect(raiseForRequireTls(await host('may', 'mx.any.test'), 'mx.any.test', true)).toMatchObject({ tls: 'required', auth: 'pkix', names: ['mx.any.test'] });
    expect(raiseForRequireTls(await host('may', 'mx.any.test'), 'mx.any.test', false)).toMatchObject({ refused: true, permanent: true });
    expect(raiseForRequireTls(await host('mta-sts', 'mx1.sts.test', false, enforce), 'mx1.sts.test', false)).toMatchObject({ tls: 'required', auth: 'pkix' });
    expect(raiseForRequireTls(await host('dane', 'mx.secure.test'), 'mx.secure.test', true)).toMatchObject({ auth: 'dane' });
  });
});
