import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SortCriterion } from '../codec/imap/index.js';
import { sortMessages, type SortFacts } from './sort.js';

const msg = (seq: number, over: Partial<SortFacts> = {}): SortFacts => ({
  seq, arrival: 0, date: 0, size: 0, subject: '', from: '', to: '', cc: '', displayFrom: '', displayTo: '', ...over,
});
const order = (ms: SortFacts[], criteria: SortCriterion[]): number[] => sortMessages(ms, criteria).map((m) => m.seq);

describe('sortMessages', () => {
  it('orders by each key, REVERSE flips only that key', () => {
    const ms = [msg(1, { size: 30, subject: 'B' }), msg(2, { size: 10, subject: 'A' }), msg(3, { size: 20, subject: 'B' })];
    expect(order(ms, [{ key: 'SIZE', reverse: false }])).toEqual([2, 3, 1]);
    expect(order(ms, [{ key: 'SIZE', reverse: true }])).toEqual([1, 3, 2]);
    expect(order(ms, [{ key: 'SUBJECT', reverse: false }, { key: 'SIZE', reverse: true }])).toEqual([2, 1, 3]);
    // Equal keys keep sequence order even under REVERSE.
    expect(order(ms, [{ key: 'SUBJECT', reverse: true }])).toEqual([1, 3, 2]);
  });

  it('is a permutation, ordered, and ties are in sequence order', () => {
    const key = fc.constantFrom<SortCriterion['key']>('ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO');
    const criteria = fc.array(fc.record({ key, reverse: fc.boolean() }), { minLength: 1, maxLength: 3 });
    const small = fc.integer({ min: 0, max: 3 });
    const text = fc.constantFrom('', 'A', 'B', 'É');
    const facts = fc.array(fc.record({ arrival: small, date: small, size: small, subject: text, from: text, to: text, cc: text, displayFrom: text, displayTo: text }), { maxLength: 30 });
    fc.assert(
      fc.property(facts, criteria, (rows, crit) => {
        const ms = rows.map((r, i) => msg(i + 1, r));
        const out = sortMessages(ms, crit);
        expect(out.map((m) => m.seq).sort((a, b) => a - b)).toEqual(ms.map((m) => m.seq));
        for (let i = 1; i < out.length; i++) {
          const a = out[i - 1]!;
          const b = out[i]!;
          const sameKeys = crit.every((c) => a[keyField(c.key)] === b[keyField(c.key)]);
          if (sameKeys) expect(a.seq).toBeLessThan(b.seq);
        }
      }),
    );
  });
});

function keyField(k: SortCriterion['key']): keyof SortFacts {
  const map: Record<SortCriterion['key'], keyof SortFacts> = {
    ARRIVAL: 'arrival', CC: 'cc', DATE: 'date', FROM: 'from', SIZE: 'size', SUBJECT: 'subject', TO: 'to', DISPLAYFROM: 'displayFrom', DISPLAYTO: 'displayTo',
  };
  return map[k];
}
