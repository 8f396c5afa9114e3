import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expandSequenceSet, formatSequenceSet, formatUidList, formatUidSet, inSequenceSet, normalizeSequenceSet,
  parseSequenceSet, sequenceSetCount, sequenceSetMaxNumber, type SeqRange,
} from './seqset.js';

describe('parseSequenceSet', () => {
  it.each([
    ['1', [{ from: 1, to: 1 }]],
    ['1:5,7,9:*', [{ from: 1, to: 5 }, { from: 7, to: 7 }, { from: 9, to: '*' }]],
    ['*', [{ from: '*', to: '*' }]],
    ['*:4', [{ from: '*', to: 4 }]],
    ['4294967295', [{ from: 4294967295, to: 4294967295 }]],
  ])('%s', (text, ranges) => {
    expect(parseSequenceSet(text)).toEqual({ type: 'set', ranges });
  });

  it('reads $ as the saved result', () => {
    expect(parseSequenceSet('$')).toEqual({ type: 'saved' });
  });

  it.each(['', '0', '1:0', '01', '4294967296', '1,', ',1', '1::2', '1:2:3', '$,1', 'a', '-1', '1 2'])('rejects %j', (text) => {
    expect(parseSequenceSet(text)).toBeNull();
  });
});

describe('helpers on ranges', () => {
  const set = (t: string): readonly SeqRange[] => {
    const s = parseSequenceSet(t);
    if (s?.type !== 'set') throw new Error(t);
    return s.ranges;
  };

  it('normalizes: resolves *, orders, clips and merges', () => {
    expect(normalizeSequenceSet(set('9:7,1,2:3,5:*,20'), 10)).toEqual([[1, 3], [5, 10]]);
    expect(normalizeSequenceSet(set('5:*'), 3)).toEqual([[3, 3]]);
    expect(normalizeSequenceSet(set('1:*'), 0)).toEqual([]);
  });

  it('expands lazily and without duplicates', () => {
    expect([...expandSequenceSet(set('3,1:2,2,*'), 5)]).toEqual([1, 2, 3, 5]);
  });

  it('handles 1:* on 100,000 messages without building arrays', () => {
    const r = set('1:*');
    expect(normalizeSequenceSet(r, 100_000)).toEqual([[1, 100_000]]);
    expect(sequenceSetCount(r, 100_000)).toBe(100_000);
    expect(inSequenceSet(r, 99_999, 100_000)).toBe(true);
    expect(inSequenceSet(r, 100_001, 100_000)).toBe(false);
    const it = expandSequenceSet(r, 100_000);
    expect(it.next().value).toBe(1);
  });

  it('tests membership with * and reversed ranges', () => {
    expect(inSequenceSet(set('*:8'), 9, 10)).toBe(true);
    expect(inSequenceSet(set('*:8'), 7, 10)).toBe(false);
    expect(inSequenceSet(set('2,4'), 3, 10)).toBe(false);
    expect(inSequenceSet(set('2,4'), 0, 10)).toBe(false);
  });

  it('reports the largest explicit number', () => {
    expect(sequenceSetMaxNumber(set('3:*,7,2'))).toBe(7);
    expect(sequenceSetMaxNumber(set('*'))).toBe(0);
  });
});

describe('formatters', () => {
  it('compacts UID sets', () => {
    expect(formatUidSet([9, 1, 2, 3, 4, 5, 7, 10, 11, 12, 3])).toBe('1:5,7,9:12');
    expect(formatUidSet([])).toBe('');
  });

  it('keeps order for COPYUID lists', () => {
    expect(formatUidList([3, 4, 5, 1, 9])).toBe('3:5,1,9');
  });

  const bound = fc.oneof(fc.integer({ min: 1, max: 0xffffffff }), fc.constant('*' as const));
  const range = fc.tuple(bound, bound).map(([from, to]) => ({ from, to }));

  it('round-trips parse(format(set))', () => {
    fc.assert(
      fc.property(fc.array(range, { minLength: 1, maxLength: 20 }), (ranges) => {
        const set = { type: 'set' as const, ranges };
        expect(parseSequenceSet(formatSequenceSet(set))).toEqual(set);
      }),
    );
  });

  it('formatUidSet covers exactly the given numbers', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 60 }), (nums) => {
        const text = formatUidSet(nums);
        const distinct = [...new Set(nums)].sort((a, b) => a - b);
        const parsed = parseSequenceSet(text);
        const covered = parsed?.type === 'set' ? [...expandSequenceSet(parsed.ranges, 500)] : [];
        expect(covered).toEqual(distinct);
        expect(text === '').toBe(distinct.length === 0);
      }),
    );
  });
});

describe('inSequenceSet on long sets', () => {
  const linear = (ranges: readonly SeqRange[], n: number, max: number): boolean =>
    n >= 1 && n <= max && ranges.some((r) => {
      const a = r.from === '*' ? max : r.from;
      const b = r.to === '*' ? max : r.to;
      return n >= Math.min(a, b) && n <= Math.max(a, b);
    });

  it('answers as the range-by-range definition does, for any max', () => {
    const num = fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constant('*' as const));
    const ranges = fc.array(fc.record({ from: num, to: num }), { minLength: 9, maxLength: 30 });
    fc.assert(fc.property(ranges, fc.integer({ min: 0, max: 70 }), (rs, max) => {
      for (let n = -1; n <= 72; n++) expect(inSequenceSet(rs, n, max)).toBe(linear(rs, n, max));
    }), { numRuns: 300 });
  });

  it('tests 200,000 numbers against 16,000 ranges without scanning them each time', { timeout: 20_000 }, () => {
    const parsed = parseSequenceSet(Array.from({ length: 16_000 }, (_, i) => String(2 * i + 1)).join(','));
    if (parsed?.type !== 'set') throw new Error('not a set');
    const r = parsed.ranges;
    let hits = 0;
    for (let n = 1; n <= 200_000; n++) if (inSequenceSet(r, n, 200_000)) hits++;
    expect(hits).toBe(16_000);
  });
});
