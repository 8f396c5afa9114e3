import { domainToASCII } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFUSABLE_ENTRIES, editDistance, isMixedScript, skeleton } from '../../../src/policy/spoof/index.js';
import { basicHeaders, CTX, inbound, message, results, run } from './helpers.js';

const fromDomain = (domain: string, ctx = CTX) => results(run(message(basicHeaders(`Accounts <billing@${domain}>`)), inbound(''), ctx, 'lookalike'));

describe('lookalike', () => {
  it('loads the Unicode confusables table', () => {
    expect(CONFUSABLE_ENTRIES).toBeGreaterThan(6000);
    expect(skeleton('examp1e')).toBe(skeleton('example'));
    expect(skeleton('exarnple')).toBe(skeleton('example'));
    expect(skeleton('\u0435xample')).toBe(skeleton('example'));
    expect(skeleton('vvidget')).toBe(skeleton('widget'));
    expect(skeleton('sample')).not.toBe(skeleton('example'));
  });

  it('flags digit and letter pairs (examp1e, exarnple) and a partner lookalike', () => {
    expect(fromDomain('examp1e.test')).toEqual(['lookalike=confusable']);
    expect(fromDomain('exarnple.test')).toEqual(['lookalike=confusable']);
    expect(fromDomain('p\u0430rtnerbank.test')).toEqual(['lookalike=homoglyph']);
    // Cyrillic "к" has no prototype in confusables.txt; the mixed scripts still give it away.
    expect(fromDomain('partnerban\u043a.test')).toEqual(['lookalike=mixed-script']);
  });

  it('flags a Cyrillic homoglyph IDN as U-label and as A-label', () => {
    const uLabel = '\u0435xample.test'; // Cyrillic "е"
    const aLabel = domainToASCII(uLabel);
    expect(aLabel.startsWith('xn--')).toBe(true);
    expect(fromDomain(uLabel)).toEqual(['lookalike=homoglyph']);
    expect(fromDomain(aLabel)).toEqual(['lookalike=homoglyph']);
    const f = run(message(basicHeaders(`x@${aLabel}`)), inbound(''), CTX, 'lookalike');
    expect(f[0]!.reasons[0]!.detail).toContain(aLabel);
  });

  it('flags the envelope domain too', () => {
    const f = run(message(basicHeaders('a@vendor.test')), inbound('bounce@examp1e.test'), CTX, 'lookalike');
    expect(results(f)).toEqual(['lookalike=confusable']);
    expect(f[0]!.reasons[0]!.rule).toBe('lookalike.envelope');
  });

  it('flags mixed scripts in one label', () => {
    expect(isMixedScript('p\u0430ypal')).toBe(true);
    expect(isMixedScript('пример')).toBe(false);
    expect(fromDomain('sh\u043ep-online.test')).toEqual(['lookalike=mixed-script']);
  });

  it('flags one typo in a label of five or more characters', () => {
    expect(editDistance('example', 'exmaple')).toBe(1);
    expect(editDistance('example', 'exampel')).toBe(1);
    expect(fromDomain('exmaple.test')).toEqual(['lookalike=edit-distance']);
    expect(fromDomain('examplle.test')).toEqual(['lookalike=edit-distance']);
    expect(fromDomain('partnerbnak.test')).toEqual(['lookalike=edit-distance']);
    expect(fromDomain('exmapel.test')).toEqual([]);
    expect(fromDomain('exmapel.test', { ...CTX, maxEditDistance: 2 })).toEqual(['lookalike=edit-distance']);
  });

  it('never flags our domains, their subdomains, other TLDs of the same name, or unrelated domains', () => {
    expect(fromDomain('example.test')).toEqual([]);
    expect(fromDomain('EXAMPLE.TEST.')).toEqual([]);
    expect(fromDomain('mail.corp.example.test')).toEqual([]);
    expect(fromDomain('partnerbank.test')).toEqual([]);
    expect(fromDomain('example.org')).toEqual([]);
    expect(fromDomain('freemail.example')).toEqual([]);
    expect(fromDomain('пример.рф')).toEqual([]);
    // Short labels are not compared by edit distance.
    expect(fromDomain('abcd.test', { ...CTX, localDomains: ['abce.test'] })).toEqual([]);
  });

  it('does not look at mail from inside', () => {
    const raw = message(basicHeaders('x@examp1e.test'));
    expect(run(raw, inbound('', { listener: 'submission', authUser: 'a@example.test' }), CTX, 'lookalike')).toEqual([]);
  });
});
