import { describe, expect, it } from 'vitest';
import { dmarcDecision } from './decision.js';
import type { ArcOutcome, AuthOutcome, DmarcOutcome } from './types.js';

function outcome(dmarc: Partial<DmarcOutcome>, arc: Partial<ArcOutcome> = {}): AuthOutcome {
  return {
    spf: { result: 'fail', domain: 'example.com', helo: 'none', heloDomain: null, comment: '' },
    dkim: [],
    dmarc: {
      result: 'fail',
      policy: 'reject',
      domain: 'example.com',
      alignment: { spf: false, dkim: false, aspf: 'r', adkim: 'r' },
      pct: 100,
      sample: 50,
      comment: '',
      ...dmarc,
    },
    arc: { result: 'none', length: 0, sealers: [], upstream: null, comment: '', ...arc },
    header: 'mx; dmarc=fail',
    strippedAuthResults: 0,
    lookups: 0,
  };
}

describe('dmarcDecision', () => {
  it('applies the published policy to a failure', () => {
    expect(dmarcDecision(outcome({ policy: 'reject' }))).toMatchObject({ action: 'reject', reply: expect.stringMatching(/^5\.7\.1 /) });
    expect(dmarcDecision(outcome({ policy: 'quarantine' })).action).toBe('junk');
    expect(dmarcDecision(outcome({ policy: 'none' })).action).toBe('pass');
  });

  it('passes pass and none', () => {
    expect(dmarcDecision(outcome({ result: 'pass' })).action).toBe('pass');
    expect(dmarcDecision(outcome({ result: 'none', policy: null })).action).toBe('pass');
  });

  it('tempfails a temperror unless told to accept it', () => {
    expect(dmarcDecision(outcome({ result: 'temperror' }))).toMatchObject({ action: 'tempfail', reply: expect.stringMatching(/^4\./) });
    expect(dmarcDecision(outcome({ result: 'temperror' }), { temperror: 'tempfail' }).action).toBe('tempfail');
    expect(dmarcDecision(outcome({ result: 'temperror' }), { temperror: 'pass' }).action).toBe('pass');
  });

  it('follows per-domain overrides, for the domain and its subdomains', () => {
    const o = outcome({ policy: 'none', domain: 'news.example.com' });
    expect(dmarcDecision(o, { overrides: { 'example.com': 'reject' } }).action).toBe('reject');
    expect(dmarcDecision(o, { overrides: { 'news.example.com': 'quarantine', 'example.com': 'reject' } }).action).toBe('junk');
    expect(dmarcDecision(outcome({ policy: 'reject' }), { overrides: { 'Example.COM': 'none' } }).action).toBe('pass');
    expect(dmarcDecision(outcome({ policy: 'quarantine' }), { overrides: { 'example.com': 'policy' } }).action).toBe('junk');
    expect(dmarcDecision(outcome({ policy: 'reject' }), { overrides: { 'other.com': 'none' } }).action).toBe('reject');
  });

  it('applies the next weaker policy outside the pct sample (RFC 7489 §6.6.4)', () => {
    expect(dmarcDecision(outcome({ policy: 'reject', pct: 20, sample: 19 })).action).toBe('reject');
    expect(dmarcDecision(outcome({ policy: 'reject', pct: 20, sample: 20 })).action).toBe('junk');
    expect(dmarcDecision(outcome({ policy: 'quarantine', pct: 20, sample: 70 })).action).toBe('pass');
    expect(dmarcDecision(outcome({ policy: 'quarantine', pct: 0, sample: 0 })).action).toBe('pass');
    expect(dmarcDecision(outcome({ policy: 'reject', pct: 100, sample: 99 })).action).toBe('reject');
    // An administrator's override is not sampled.
    expect(dmarcDecision(outcome({ policy: 'none', pct: 10, sample: 90 }), { overrides: { 'example.com': 'reject' } }).action).toBe('reject');
  });

  describe('trusted ARC sealers (RFC 8617 §7.2)', () => {
    const sealed = (upstream: ArcOutcome['upstream'], result: ArcOutcome['result'] = 'pass'): AuthOutcome =>
      outcome({ policy: 'reject' }, { result, length: 2, sealers: ['lists.example.org', 'relay.example.net'], upstream });
    const trust = { trustedArcSealers: ['Lists.Example.Org'] };

    it('overrides a failure when the newest trusted sealer saw DMARC or aligned DKIM/SPF pass', () => {
      expect(dmarcDecision(sealed({ dmarc: 'pass', dkimAligned: false, spfAligned: false }), trust)).toMatchObject({ action: 'pass', reason: expect.stringMatching(/^arc-override/) });
      expect(dmarcDecision(sealed({ dmarc: 'fail', dkimAligned: true, spfAligned: false }), trust).action).toBe('pass');
      expect(dmarcDecision(sealed({ dmarc: null, dkimAligned: false, spfAligned: true }), trust).action).toBe('pass');
    });

    it('does not override for an untrusted sealer, a broken chain, or a sealer that saw a failure', () => {
      expect(dmarcDecision(sealed({ dmarc: 'pass', dkimAligned: true, spfAligned: true }), { trustedArcSealers: ['relay.example.net'] }).action).toBe('reject');
      expect(dmarcDecision(sealed({ dmarc: 'pass', dkimAligned: true, spfAligned: true }, 'fail'), trust).action).toBe('reject');
      expect(dmarcDecision(sealed({ dmarc: 'fail', dkimAligned: false, spfAligned: false }), trust).action).toBe('reject');
      expect(dmarcDecision(sealed({ dmarc: 'pass', dkimAligned: true, spfAligned: true })).action).toBe('reject');
    });
  });
});
