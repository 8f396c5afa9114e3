import { describe, expect, it } from 'vitest';
import { sendAsAliases } from '../../../src/cli/policy.js';
import { basicHeaders, CTX, inbound, message, results, run } from './helpers.js';

describe('internal-forgery', () => {
  it('flags a logged-in user writing as a colleague', () => {
    const raw = message(basicHeaders('Boss <boss@example.test>'));
    const f = run(raw, inbound('boss@example.test', { listener: 'submission', authUser: 'intern@example.test' }), undefined, 'internal-forgery');
    expect(results(f)).toEqual(['internal-forgery=auth-mismatch-from', 'internal-forgery=auth-mismatch-envelope']);
    expect(f.every((x) => x.origin === 'inside')).toBe(true);
  });

  it('accepts a user sending as themself (case-blind) or from a foreign domain', () => {
    const own = message(basicHeaders('Intern <Intern@Example.TEST>'));
    expect(run(own, inbound('intern@example.test', { listener: 'submissions', authUser: 'intern@example.test' }), undefined, 'internal-forgery')).toEqual([]);
    const foreign = message(basicHeaders('me@private.test'));
    expect(run(foreign, inbound('me@private.test', { listener: 'submission', authUser: 'intern@example.test' }), undefined, 'internal-forgery')).toEqual([]);
  });

  it('accepts a user writing as an alias that reaches only them, not as a shared one', () => {
    const sendAs = sendAsAliases([
      { address: 'Sales@example.test', target: 'intern@example.test' },
      { address: 'team@example.test', target: 'intern@example.test' },
      { address: 'team@example.test', target: 'boss@example.test' },
    ]);
    expect([...sendAs.entries()]).toEqual([['intern@example.test', ['sales@example.test']]]);
    const ctx = { ...CTX, sendAs };
    const alias = message(basicHeaders('Sales <sales@example.test>'));
    expect(run(alias, inbound('SALES@example.test', { listener: 'submission', authUser: 'intern@example.test' }), ctx, 'internal-forgery')).toEqual([]);
    const shared = message(basicHeaders('team@example.test'));
    expect(results(run(shared, inbound('team@example.test', { listener: 'submission', authUser: 'intern@example.test' }), ctx, 'internal-forgery'))).toEqual([
      'internal-forgery=auth-mismatch-from',
      'internal-forgery=auth-mismatch-envelope',
    ]);
  });

  it('flags an internal host that hands the MX a local sender without logging in', () => {
    const raw = message(basicHeaders('payroll@example.test'));
    const f = run(raw, inbound('payroll@example.test', { clientAddress: '::ffff:10.9.8.7' }), undefined, 'internal-forgery');
    expect(results(f)).toEqual(['internal-forgery=unauthenticated-internal']);
    expect(f[0]!.origin).toBe('inside');
    expect(results(run(raw, inbound('', { clientAddress: 'fd00::25' }), undefined, 'internal-forgery'))).toEqual(['internal-forgery=unauthenticated-internal']);
  });

  it('leaves outside clients and internal hosts sending foreign mail alone', () => {
    const raw = message(basicHeaders('payroll@example.test'));
    expect(run(raw, inbound('payroll@example.test', { clientAddress: '198.51.100.1' }), undefined, 'internal-forgery')).toEqual([]);
    const foreign = message(basicHeaders('alerts@vendor.test'));
    expect(run(foreign, inbound('alerts@vendor.test', { clientAddress: '10.0.0.5' }), undefined, 'internal-forgery')).toEqual([]);
  });
});
