import { describe, expect, it } from 'vitest';
import { FlushGroup } from './flush-group.js';

/** A flush whose end the test decides; records when each one started. */
function controlled() {
  const started: number[] = [];
  const ends: (() => void)[] = [];
  let step = 0;
  const group = new FlushGroup(
    () =>
      new Promise<void>((resolve) => {
        started.push(step);
        ends.push(resolve);
      }),
  );
  return { group, started, ends, mark: (n: number) => (step = n) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('FlushGroup', () => {
  it('makes callers that arrive during a flush wait for the next one, which they share', async () => {
    const { group, started, ends, mark } = controlled();
    const done: string[] = [];
    const a = group.request().then(() => done.push('a'));
    await tick();
    expect(started).toEqual([0]);
    mark(1);
    // b and c wrote after the first flush began: it cannot cover them.
    const b = group.request().then(() => done.push('b'));
    const c = group.request().then(() => done.push('c'));
    ends[0]!();
    await a;
    await tick();
    expect(done).toEqual(['a']);
    expect(started).toEqual([0, 1]); // one more flush, started after b and c asked
    ends[1]!();
    await Promise.all([b, c]);
    expect(done).toEqual(['a', 'b', 'c']);
    expect(group.idle).toBe(true);
  });

  it('passes a failed flush to its callers and flushes again for the next ones', async () => {
    let n = 0;
    const group = new FlushGroup(async () => {
      if (n++ === 0) throw new Error('EIO');
    });
    await expect(group.request()).rejects.toThrow('EIO');
    await expect(group.request()).resolves.toBeUndefined();
    expect(n).toBe(2);
  });
});
