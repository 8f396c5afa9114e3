/** The harness itself: mutators stay within bounds, findings are classified, heap growth is seen. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { execute, heapGrowth, runTarget } from './harness/engine.js';
import { mutatedSeeds } from './harness/mutate.js';
import { check, type FuzzTarget } from './harness/types.js';

const target = (run: FuzzTarget['run']): FuzzTarget => ({ name: 't', seeds: () => [Buffer.from('ab')], arbitrary: fc.constant(Buffer.from('x')), run });

describe('fuzz harness', () => {
  it('mutations never exceed the size cap', () => {
    const arb = mutatedSeeds([Buffer.alloc(3000, 0x61), Buffer.from('b\nc\n')], { maxBytes: 4096, maxRepeat: 100_000 });
    for (const input of fc.sample(arb, { numRuns: 300, seed: 1 })) expect(input.length).toBeLessThanOrEqual(4096);
  });

  it('tells a broken promise, an exception and a clean run apart', () => {
    expect(execute(target(() => 'ok'), Buffer.from('x')).finding).toBeNull();
    expect(execute(target(() => (check(false, 'no'), 'ok')), Buffer.from('x')).finding?.kind).toBe('invariant');
    expect(execute(target(() => JSON.parse('{')), Buffer.from('x')).finding?.kind).toBe('crash');
  });

  it('runs the seeds and then the generated inputs, counting each', () => {
    const stats = runTarget(target((i) => (i.length > 1 ? 'rejected' : 'ok')), { runs: 5, seed: 1 });
    expect(stats).toMatchObject({ execs: 6, ok: 5, rejected: 1 });
  });

  it('reports a heap that grows and stays grown, not one that comes back', () => {
    expect(heapGrowth([20, 21, 20, 22, 90, 120, 150, 180])).toMatch(/grew from 20 MiB/);
    expect(heapGrowth([20, 21, 20, 22, 90, 21, 150, 22])).toBeNull();
  });
});
