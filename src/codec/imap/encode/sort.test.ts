import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { esortResponse, orderedSet, sortResponse, threadResponse, type ThreadTree } from './sort.js';

const s = (b: Buffer) => b.toString('utf8');
const leaf = (seq: number | null, ...children: ThreadTree[]): ThreadTree => ({ seq, children });

describe('SORT responses', () => {
  it('writes SORT, with MODSEQ when asked', () => {
    expect(s(sortResponse([2, 84, 882]))).toBe('* SORT 2 84 882\r\n');
    expect(s(sortResponse([]))).toBe('* SORT\r\n');
    expect(s(sortResponse([5, 3], 917n))).toBe('* SORT 5 3 (MODSEQ 917)\r\n');
    expect(s(sortResponse([], 917n))).toBe('* SORT\r\n');
  });

  it('writes ESORT results in sort order', () => {
    const options = new Set(['MIN', 'MAX', 'ALL', 'COUNT'] as const);
    expect(s(esortResponse({ tag: 'a', uid: true, numbers: [9, 3, 4, 5, 1], options }))).toBe('* ESEARCH (TAG "a") UID MIN 9 MAX 1 ALL 9,3:5,1 COUNT 5\r\n');
    expect(s(esortResponse({ tag: 'b', uid: false, numbers: [], options }))).toBe('* ESEARCH (TAG "b") COUNT 0\r\n');
    const partial = (numbers: number[]) => ({ range: { first: 2, last: 4 }, numbers });
    expect(s(esortResponse({ tag: 'c', uid: false, numbers: [5, 3, 4, 2], options: new Set(), partial: partial([3, 4, 2]) }))).toBe('* ESEARCH (TAG "c") PARTIAL (2:4 3:4,2)\r\n');
    expect(s(esortResponse({ tag: 'd', uid: false, numbers: [], options: new Set(), partial: partial([]) }))).toBe('* ESEARCH (TAG "d") PARTIAL (2:4 NIL)\r\n');
  });

  it('orderedSet keeps the order and round-trips', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 40 }), (numbers) => {
        const expanded = orderedSet(numbers)
          .split(',')
          .filter((p) => p !== '')
          .flatMap((p) => {
            const [a, b] = p.split(':').map(Number);
            return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
          });
        expect(expanded).toEqual(numbers);
      }),
    );
  });
});

describe('THREAD response', () => {
  it('writes the RFC 5256 forms', () => {
    // (3 6 (4 23)(44 7 96)): 3 -> 6 -> {4 -> 23, 44 -> 7 -> 96}
    const t = leaf(3, leaf(6, leaf(4, leaf(23)), leaf(44, leaf(7, leaf(96)))));
    expect(s(threadResponse([leaf(2), t]))).toBe('* THREAD (2)(3 6 (4 23)(44 7 96))\r\n');
    expect(s(threadResponse([leaf(null, leaf(3), leaf(5))]))).toBe('* THREAD ((3)(5))\r\n');
    expect(s(threadResponse([leaf(166), leaf(174, leaf(175), leaf(176))]))).toBe('* THREAD (166)(174 (175)(176))\r\n');
    expect(s(threadResponse([]))).toBe('* THREAD\r\n');
    expect(s(threadResponse([leaf(1, leaf(2))], (n) => n * 10))).toBe('* THREAD (10 20)\r\n');
  });
});
