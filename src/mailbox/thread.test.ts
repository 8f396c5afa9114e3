import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { threadResponse } from '../codec/imap/index.js';
import { baseSubject, casemap } from './base-subject.js';
import { orderedSubject, referencesThreads, type ThreadFacts, type ThreadNode } from './thread.js';

interface Spec {
  id?: string;
  refs?: string[];
  subject?: string;
  /** Days after the first message; the sequence number by default. */
  day?: number;
}

function facts(specs: Spec[]): ThreadFacts[] {
  return specs.map((s, i) => {
    const b = baseSubject(s.subject ?? 'x');
    return {
      seq: i + 1,
      date: (s.day ?? i + 1) * 86_400_000,
      subject: casemap(b.base),
      isReplyOrForward: b.isReplyOrForward,
      messageId: s.id ?? null,
      references: s.refs ?? [],
    };
  });
}

const wire = (trees: ThreadNode[]): string => threadResponse(trees).toString('latin1').trimEnd().replace(/^\* THREAD ?/, '');

function seqs(trees: readonly ThreadNode[]): number[] {
  const out: number[] = [];
  const stack = [...trees];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.seq !== null) out.push(n.seq);
    stack.push(...n.children);
  }
  return out.sort((a, b) => a - b);
}

describe('REFERENCES', () => {
  it('links a reply chain and siblings', () => {
    const t = referencesThreads(
      facts([
        { id: 'a@x', subject: 'Plan' },
        { id: 'b@x', refs: ['a@x'], subject: 'Re: Plan' },
        { id: 'c@x', refs: ['a@x', 'b@x'], subject: 'Re: Plan' },
        { id: 'd@x', refs: ['a@x'], subject: 'Re: Plan' },
        { id: 'e@x', subject: 'Other' },
      ]),
    );
    expect(wire(t)).toBe('(1 (2 3)(4))(5)');
  });

  it('keeps a placeholder for a missing parent with several children, drops it for one', () => {
    const t = referencesThreads(
      facts([
        { id: 'b@x', refs: ['gone@x'], subject: 'Re: Lost' },
        { id: 'c@x', refs: ['gone@x'], subject: 'Re: Lost' },
        { id: 'd@x', refs: ['gone2@x'], subject: 'Re: Alone' },
        { id: 'e@x', refs: ['gone3@x', 'gone4@x', 'd@x'], subject: 'Re: Alone' },
      ]),
    );
    expect(wire(t)).toBe('((1)(2))(3 4)');
  });

  it('uses In-Reply-To-style single references and ignores loops', () => {
    const t = referencesThreads(
      facts([
        { id: 'a@x', refs: ['b@x'], subject: 's1' },
        { id: 'b@x', refs: ['a@x'], subject: 's2' },
        { id: 'c@x', refs: ['c@x'], subject: 's3' },
      ]),
    );
    expect(seqs(t)).toEqual([1, 2, 3]);
    // 1 under 2's placeholder first; 2 then may not go under 1.
    expect(wire(t)).toBe('(2 1)(3)');
  });

  it("lets a message's own References replace a parent presumed from another's, even if it cannot link", () => {
    // 2 names 3 as its parent (via "a c"), 3 names 2: 3 leaves 1 and, as linking it under 2 would loop, starts a thread.
    const t = referencesThreads(
      facts([
        { id: 'a@x', subject: 'a', day: 3 },
        { id: 'b@x', refs: ['a@x', 'c@x'], subject: 'b', day: 1 },
        { id: 'c@x', refs: ['b@x'], subject: 'c', day: 2 },
      ]),
    );
    expect(wire(t)).toBe('(3 2)(1)');
  });

  it('gives duplicate and missing Message-IDs threads of their own', () => {
    const t = referencesThreads(facts([{ id: 'a@x', subject: 'p' }, { id: 'a@x', subject: 'q' }, { subject: 'r' }, { refs: ['a@x'], subject: 'Re: p' }]));
    expect(wire(t)).toBe('(1 4)(2)(3)');
  });

  it('gathers threads by base subject', () => {
    const t = referencesThreads(
      facts([
        { id: 'a@x', subject: 'Budget' },
        { id: 'b@x', subject: 'Re: Budget' }, // reply without references: joins under 1
        { id: 'c@x', subject: 'Budget' }, // two originals: a placeholder holds both
        { id: 'd@x', subject: 'lunch' },
        { id: 'e@x', subject: 'Fwd: Lunch' },
      ]),
    );
    expect(wire(t)).toBe('((1 2)(3))(4 5)');
  });

  it('sorts siblings by sent date, then by sequence number', () => {
    const t = referencesThreads(
      facts([
        { id: 'a@x', subject: 'r', day: 1 },
        { id: 'b@x', refs: ['a@x'], subject: 'one', day: 9 },
        { id: 'c@x', refs: ['a@x'], subject: 'two', day: 3 },
        { id: 'd@x', refs: ['a@x'], subject: 'three', day: 3 },
        { id: 'e@x', subject: 'early', day: 0 },
      ]),
    );
    expect(wire(t)).toBe('(5)(1 (3)(4)(2))');
  });

  it('handles a chain of 50,000 replies without deep recursion', () => {
    const n = 50_000;
    const specs: Spec[] = Array.from({ length: n }, (_, i) => ({ id: `m${i}@x`, refs: i > 0 ? [`m${i - 1}@x`] : [], subject: 'chain' }));
    const t = referencesThreads(facts(specs));
    expect(t).toHaveLength(1);
    expect(seqs(t)).toHaveLength(n);
    expect(wire(t).split(' ')).toHaveLength(n);
  });

  it('returns every message exactly once, whatever the references', () => {
    const ids = fc.constantFrom('a@x', 'b@x', 'c@x', 'd@x', 'e@x', 'f@x');
    const spec = fc.record({
      id: fc.option(ids, { nil: undefined }),
      refs: fc.array(ids, { maxLength: 5 }),
      subject: fc.constantFrom('s', 'Re: s', 't', 'Fwd: t', '', 'Re:'),
      day: fc.integer({ min: 0, max: 5 }),
    });
    fc.assert(
      fc.property(fc.array(spec, { maxLength: 25 }), (specs) => {
        const t = referencesThreads(facts(specs));
        expect(seqs(t)).toEqual(specs.map((_, i) => i + 1));
        // No placeholder without children, none with only one child below the top.
        const stack = t.map((n) => ({ n, top: true }));
        while (stack.length > 0) {
          const { n, top } = stack.pop()!;
          if (n.seq === null) expect(n.children.length).toBeGreaterThan(top ? 1 : 0);
          stack.push(...n.children.map((c) => ({ n: c, top: false })));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('ORDEREDSUBJECT', () => {
  it('groups by base subject, threads by first date', () => {
    const t = orderedSubject(
      facts([
        { subject: 'b', day: 5 },
        { subject: 'Re: a', day: 2 },
        { subject: 'a', day: 3 },
        { subject: 'B (fwd)', day: 1 },
        { subject: 'c', day: 4 },
      ]),
    );
    expect(wire(t)).toBe('(4 1)(2 3)(5)');
    const three = orderedSubject(facts([{ subject: 'x' }, { subject: 'x' }, { subject: 'x' }]));
    expect(wire(three)).toBe('(1 (2)(3))');
  });

  it('returns every message exactly once', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ subject: fc.constantFrom('a', 'Re: a', 'b', ''), day: fc.integer({ min: 0, max: 3 }) }), { maxLength: 30 }), (specs) => {
        expect(seqs(orderedSubject(facts(specs)))).toEqual(specs.map((_, i) => i + 1));
      }),
    );
  });
});
