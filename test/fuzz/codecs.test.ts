/**
 * The short fuzz run of the normal test suite: every target's seeds, then a
 * bounded number of generated inputs from a fixed seed (so a failure here
 * reproduces). Long runs: `npm run fuzz` (test/fuzz/README.md).
 */
import { describe, expect, it } from 'vitest';
import { runTarget, type Finding } from './harness/engine.js';
import { FindingWriter } from './harness/findings.js';
import { TARGETS } from './targets/index.js';

const RUNS = Number(process.env.FUZZ_CI_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_CI_SEED ?? 0x5eed);

const writer = new FindingWriter();
const show = (f: Finding): string =>
  `${f.kind}: ${f.message}\n  saved as ${writer.write(f) ?? '(not saved)'}; first bytes (base64): ${Buffer.from(f.input.subarray(0, 1500)).toString('base64')}`;

describe('fuzz targets, short run', () => {
  for (const target of TARGETS) {
    it(target.name, () => {
      const stats = runTarget(target, { runs: RUNS, seed: SEED, slowMs: 3000 });
      expect(stats.execs).toBeGreaterThanOrEqual(RUNS);
      const distinct = new Map(stats.findings.map((f) => [f.signature, f]));
      expect([...distinct.values()].map(show)).toEqual([]);
    });
  }
});
