import { describe, expect, it } from 'vitest';
import type { DetectorSpec } from '../types.js';
import { BUILTIN_TYPES, DetectorSpecError, compileDetector, fingerprintOf } from './index.js';

const SAMPLES: Record<string, string> = {
  credit_card: 'card 4111 1111 1111 1111',
  iban: 'IBAN DE89 3704 0044 0532 0130 00',
  us_ssn: 'SSN 536-22-8726',
  uk_nino: 'NINO AB123456C',
  aba_routing: 'routing 021000021',
  private_key: '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----',
  cloud_key: `key ${'AKIA'}Q3EGRP5WZ2LXN7TY`,
  jwt: `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.e30.c2ln`,
  password: 'password: S3cure!pass',
};

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('compileDetector', () => {
  it.each(BUILTIN_TYPES)('compiles the built-in %s into a text detector that finds its sample', (type) => {
    const d = compileDetector('d', { type }, []);
    expect([d.name, d.type, d.headers, d.message]).toEqual(['d', type, undefined, undefined]);
    expect(d.text?.(SAMPLES[type]!)).toHaveLength(1);
    expect(d.text?.('nothing to see here, order 12345')).toEqual([]);
  });

  it('compiles keywords, label, fingerprint and regex detectors', () => {
    const fp = fingerprintOf('plan', 'one two three four five six seven eight nine ten');
    const specs: [DetectorSpec, 'text' | 'headers' | 'message'][] = [
      [{ type: 'keywords', terms: ['privileged'], near: { terms: ['counsel'], words: 5 } }, 'text'],
      [{ type: 'label', subject_tags: ['[Secret]'] }, 'headers'],
      [{ type: 'fingerprint', documents: ['plan'], threshold: 0.5 }, 'message'],
      [{ type: 'regex', pattern: 'PRJ-\\d+', confidence: 'high' }, 'text'],
    ];
    for (const [spec, method] of specs) {
      const d = compileDetector('x', spec, [fp]);
      expect(['text', 'headers', 'message'].filter((k) => typeof d[k as keyof typeof d] === 'function'), spec.type).toEqual([method]);
    }
    const regex = compileDetector('x', { type: 'regex', pattern: 'PRJ-\\d+' }, []);
    expect(regex.text?.('PRJ-42')).toEqual([{ value: 'PRJ-42', index: 0, length: 6, confidence: 'medium' }]);
  });

  it.each([
    ['an unknown type', { type: 'cardz' }, /unknown detector type "cardz"/],
    ['a bad regex', { type: 'regex', pattern: '(a' }, /missing closing/],
    ['a regex with lookahead', { type: 'regex', pattern: '(?!a)' }, /RE2 syntax/],
    ['an unknown document', { type: 'fingerprint', documents: ['nope'], threshold: 0.5 }, /no registered document "nope"/],
    ['a threshold above 1', { type: 'fingerprint', documents: ['plan'], threshold: 1.5 }, /threshold/],
    ['no terms', { type: 'keywords', terms: [] }, /terms is empty/],
    ['a term without a word', { type: 'keywords', terms: ['ok', '--'] }, /terms\[1\]/],
    ['a negative near distance', { type: 'keywords', terms: ['a'], near: { terms: ['b'], words: -1 } }, /near.words/],
    ['a label without anything', { type: 'label' }, /needs headers or subject_tags/],
    ['a bad header name', { type: 'label', headers: [{ name: 'X Bad', values: ['a'] }] }, /headers\[0\].name/],
  ])('refuses %s with a DetectorSpecError naming the detector', (_name, spec, why) => {
    const err = thrown(() => compileDetector('mine', spec as DetectorSpec, [fingerprintOf('plan', 'a b c d e f')]));
    expect(err).toBeInstanceOf(DetectorSpecError);
    expect((err as Error).message).toMatch(/^detector "mine": /);
    expect((err as Error).message).toMatch(why);
  });
});
