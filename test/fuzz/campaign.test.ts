/**
 * Long fuzz runs and replays, driven by `npm run fuzz` (run.mjs) through
 * environment variables; skipped in the normal test suite.
 *   FUZZ_MINUTES   run every target (or FUZZ_TARGET) in turns for this long
 *   FUZZ_TARGET    only this target
 *   FUZZ_SEED      fast-check seed of the first slice (default: random)
 *   FUZZ_REPLAY    run one findings file and print what happens
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { execute, heapGrowth, newStats, runTarget, type TargetStats } from './harness/engine.js';
import { FINDINGS_DIR, FindingWriter, targetOfFile } from './harness/findings.js';
import { Watchdog } from './harness/watchdog.js';
import { targetNamed, TARGETS } from './targets/index.js';

const minutes = Number(process.env.FUZZ_MINUTES ?? 0);
const only = process.env.FUZZ_TARGET;
const replay = process.env.FUZZ_REPLAY;
const SLICE_MS = 20_000;
const HANG_MS = 30_000;
// One input for a second stalls every connection of a real server: generous for inputs of at most 256 KiB.
const SLOW_MS = 1000;

describe.runIf(minutes > 0)('fuzz campaign', () => {
  it(`runs for ${minutes} minute(s)`, () => {
    const targets = only ? [targetNamed(only)] : [...TARGETS];
    const writer = new FindingWriter();
    const watchdog = new Watchdog(FINDINGS_DIR, HANG_MS);
    const stats = new Map<string, TargetStats>(targets.map((t) => [t.name, newStats(t.name)]));
    const end = Date.now() + minutes * 60_000;
    let seed = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31 - 1));
    console.log(`fuzz: seed ${seed}, ${targets.length} target(s), until ${new Date(end).toISOString()}, findings in ${FINDINGS_DIR}`);
    for (let round = 0; Date.now() < end; round++) {
      for (const t of targets) {
        if (Date.now() >= end) break;
        const s = stats.get(t.name)!;
        const before = s.execs;
        runTarget(t, {
          deadline: Math.min(end, Date.now() + SLICE_MS),
          seed: seed++,
          memory: true,
          slowMs: SLOW_MS,
          skipSeeds: round > 0,
          watchdog,
          onFinding: (f) => {
            const file = writer.write(f);
            if (file) console.log(`fuzz: ${t.name}: ${f.kind}: ${f.message.slice(0, 200)}\n      -> ${file}`);
          },
        }, s);
        console.log(`fuzz: ${t.name}: +${s.execs - before} (${s.execs} total), heap ${s.heap.at(-1) ?? '?'} MiB`);
      }
    }
    watchdog.stop().catch(() => undefined); // the run is over; a watchdog that fails to stop cannot change its result
    const rows = [...stats.values()].map((s) => {
      const leak = heapGrowth(s.heap);
      return `${s.target.padEnd(14)} ${String(s.execs).padStart(9)} execs  ${String(s.ok).padStart(8)} ok  ${String(s.rejected).padStart(8)} rejected  ` +
        `max ${Math.round(s.maxMs)} ms  findings ${s.findings.length}${leak ? `  MEMORY: ${leak}` : ''}`;
    });
    console.log(`\nfuzz summary\n${rows.join('\n')}\ndistinct findings: ${writer.summary().length}`);
    for (const [sig, n] of writer.summary()) console.log(`  ${n} x ${sig}`);
  });
});

describe.runIf(Boolean(replay))('fuzz replay', () => {
  it(`replays ${replay}`, () => {
    const file = replay!;
    const target = targetNamed(process.env.FUZZ_TARGET ?? targetOfFile(file));
    const input = readFileSync(file);
    const r = execute(target, input, 10 * 60_000);
    if (r.finding) console.log(`${target.name}: ${r.finding.kind} after ${Math.round(r.ms)} ms\n${r.finding.stack}`);
    else console.log(`${target.name}: ${r.outcome} in ${Math.round(r.ms)} ms: no finding`);
    expect(r.finding?.message ?? null).toBeNull();
  });
});
