import { describe, expect, it } from 'vitest';
import { basicHeaders, inbound, message, results, run } from './helpers.js';

const forged = message(basicHeaders('CEO <ceo@example.test>'));

describe('own-domain', () => {
  it('flags an unauthenticated From of a local domain on the MX', () => {
    const f = run(forged, inbound('bounce@elsewhere.test'), undefined, 'own-domain');
    expect(results(f)).toEqual(['own-domain=forged-from']);
    expect(f[0]!.origin).toBe('outside');
  });

  it('flags a local envelope sender and a subdomain', () => {
    const raw = message(basicHeaders('x@mail.corp.example.test'));
    expect(results(run(raw, inbound('x@example.test'), undefined, 'own-domain'))).toEqual(['own-domain=forged-from', 'own-domain=forged-envelope']);
  });

  it('does not flag a third party that passes DMARC or signs aligned', () => {
    expect(run(forged, inbound('b@esp.test', { auth: { spf: 'fail', dmarc: 'pass', dkimAlignedPass: false } }), undefined, 'own-domain')).toEqual([]);
    expect(run(forged, inbound('b@esp.test', { auth: { spf: 'none', dmarc: 'fail', dkimAlignedPass: true } }), undefined, 'own-domain')).toEqual([]);
  });

  it('still flags a local envelope when DMARC passed for a foreign From', () => {
    const raw = message(basicHeaders('a@attacker.test'));
    const auth = { spf: 'fail', dmarc: 'pass', dkimAlignedPass: true };
    expect(results(run(raw, inbound('ceo@example.test', { auth }), undefined, 'own-domain'))).toEqual(['own-domain=forged-envelope']);
  });

  it('does not flag an envelope our own SPF record allows', () => {
    const raw = message(basicHeaders('news@elsewhere.test'));
    expect(run(raw, inbound('bounce@example.test', { auth: { spf: 'pass', dmarc: 'none', dkimAlignedPass: false } }), undefined, 'own-domain')).toEqual([]);
  });

  it('ignores submission, logged-in clients, internal networks and foreign domains', () => {
    expect(run(forged, inbound('ceo@example.test', { listener: 'submission', authUser: 'ceo@example.test' }), undefined, 'own-domain')).toEqual([]);
    expect(run(forged, inbound('ceo@example.test', { clientAddress: '10.1.2.3' }), undefined, 'own-domain')).toEqual([]);
    expect(run(message(basicHeaders('a@notexample.test')), inbound('a@example.test.evil.test'), undefined, 'own-domain')).toEqual([]);
  });
});
