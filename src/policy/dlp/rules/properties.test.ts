/**
 * The rules loader on arbitrary input: whatever the file holds, the answer is
 * a RulesSpec or a RulesError whose every problem names a key and a one-line
 * reason; never another exception.
 */
import fc from 'fast-check';
import { stringify } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { buildRules, RulesError } from './load.js';

const value = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 2000 }),
  fc.double({ min: -1, max: 3, noNaN: true }),
  fc.boolean(),
  fc.constantFrom('credit_card', 'regex', 'label', 'keywords', 'fingerprint', 'any', 'all', 'hold', 'encrypt', 'reject', 'high', '(a+)+$', '[', 'cards'),
  fc.array(fc.constantFrom('cards', 'log', 'tag', 'encrypt', 'sender', 'manager', 'x', ''), { maxLength: 3 }),
);
const key = fc.constantFrom('type', 'pattern', 'terms', 'headers', 'documents', 'threshold', 'name', 'detectors', 'match', 'min_count', 'inbound', 'outbound', 'internal', 'encrypt_fallback', 'notify', 'typo');
const table = fc.dictionary(key, value, { maxKeys: 5 });
const file = fc.record(
  {
    version: fc.oneof(fc.constant(1), value),
    subject_tag: value,
    partner_domains: fc.oneof(fc.array(fc.domain(), { maxLength: 2 }), value),
    unscannable_rule: value,
    groups: fc.dictionary(fc.constantFrom('legal', 'x y', 'hr'), fc.dictionary(fc.constantFrom('manager', 'boss'), value, { maxKeys: 2 }), { maxKeys: 2 }),
    detectors: fc.dictionary(fc.constantFrom('cards', 'labels', 'bad name', 're'), table, { maxKeys: 3 }),
    rules: fc.array(table, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

describe('buildRules on arbitrary files', () => {
  it('answers a RulesSpec or a RulesError naming each key, never anything else', () => {
    fc.assert(
      fc.property(file, (f) => {
        let text: string;
        try {
          text = stringify(f);
        } catch {
          return; // not representable in TOML
        }
        try {
          const r = buildRules(text, []);
          expect(r.rules.length).toBeGreaterThan(0);
          // encrypt is never accepted for inbound mail, and where it is accepted it always has a fallback.
          for (const rule of r.rules) {
            expect(rule.actions.inbound).not.toContain('encrypt');
            const encrypts = rule.actions.outbound.includes('encrypt') || rule.actions.internal.includes('encrypt');
            expect(rule.encrypt_fallback === 'hold' || rule.encrypt_fallback === 'reject').toBe(encrypts);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(RulesError);
          const problems = (e as RulesError).problems;
          expect(problems.length).toBeGreaterThan(0);
          for (const p of problems) {
            expect(p.key).not.toBe('');
            expect(p.reason).toMatch(/^[^\r\n]+$/);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but RulesError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (t) => {
        try {
          buildRules(t, []);
        } catch (e) {
          expect(e).toBeInstanceOf(RulesError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
