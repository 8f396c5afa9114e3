/**
 * Runs targets: every seed once, then batches of generated inputs, until a
 * run count or a deadline. Each input is timed (an input slower than slowMs is
 * a finding: a hang detector, not a performance check; a true infinite loop
 * is caught by the watchdog thread), and the heap after a full GC is sampled
 * between batches, so a codec that keeps memory across inputs shows as
 * steady growth.
 */
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import type { Watchdog } from './watchdog.js';
import type { FuzzTarget, Outcome } from './types.js';

export type FindingKind = 'crash' | 'invariant' | 'slow' | 'memory';

export interface Finding {
  readonly target: string;
  readonly kind: FindingKind;
  readonly message: string;
  readonly stack: string;
  readonly input: Uint8Array;
  /** Same signature, same bug (as far as the message and first frame tell). */
  readonly signature: string;
}

export interface RunOptions {
  /** Generated inputs to run after the seeds (ignored with deadline). */
  readonly runs?: number;
  /** Stop generating at this Date.now(). */
  readonly deadline?: number;
  /** fast-check seed of the first batch. */
  readonly seed: number;
  /** An input slower than this is a finding (default 2000 ms). */
  readonly slowMs?: number;
  /** Inputs per batch; the heap is sampled between batches (default 200). */
  readonly batch?: number;
  /** Sample the heap after a forced GC between batches. */
  readonly memory?: boolean;
  /** Skip the seeds (later slices of a long run). */
  readonly skipSeeds?: boolean;
  readonly watchdog?: Watchdog;
  readonly onFinding?: (f: Finding) => void;
}

export interface TargetStats {
  readonly target: string;
  execs: number;
  ok: number;
  rejected: number;
  maxMs: number;
  findings: Finding[];
  /** Heap used after GC at each sample, MiB. */
  heap: number[];
}

let gcFn: (() => void) | null | undefined;
/** A full GC, if the runtime lets us have one (node --expose-gc, or the flag set at run time). */
export function fullGc(): boolean {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      try {
        setFlagsFromString('--expose-gc');
        gcFn = runInNewContext('gc') as () => void;
      } catch {
        gcFn = null;
      }
    }
  }
  gcFn?.();
  return gcFn !== null;
}

function signatureOf(kind: FindingKind, e: unknown): { message: string; stack: string; signature: string } {
  const err = e instanceof Error ? e : new Error(String(e));
  const message = `${err.name}: ${err.message}`.slice(0, 2000);
  const stack = err.stack ?? message;
  const frame = stack.split('\n').find((l) => l.trim().startsWith('at ')) ?? '';
  // Numbers in messages are offsets and sizes: drop them so one bug is one signature.
  return { message, stack, signature: `${kind}|${err.name}|${err.message.replace(/\d+/g, 'N').slice(0, 120)}|${frame.trim()}` };
}

/** Runs one input; returns its outcome and time, or the finding. */
export function execute(target: FuzzTarget, input: Uint8Array, slowMs = 2000, watchdog?: Watchdog): { outcome: Outcome | null; ms: number; finding: Finding | null } {
  watchdog?.begin(target.name, input);
  const t0 = performance.now();
  let outcome: Outcome | null = null;
  let finding: Finding | null = null;
  try {
    outcome = target.run(input);
  } catch (e) {
    const kind: FindingKind = e instanceof Error && e.name === 'InvariantBreak' ? 'invariant' : 'crash';
    finding = { target: target.name, kind, input, ...signatureOf(kind, e) };
  }
  const ms = performance.now() - t0;
  watchdog?.end();
  const bound = slowMs * (target.passes ?? 1);
  if (!finding && ms > bound) {
    // Confirm once, warm: a first call that compiles code or meets a GC or a busy machine is not a finding.
    const t1 = performance.now();
    target.run(input);
    const again = performance.now() - t1;
    if (again > bound) {
      const message = `input of ${input.length} bytes took ${Math.round(ms)} ms, then ${Math.round(again)} ms (bound ${bound} ms)`;
      finding = { target: target.name, kind: 'slow', message, stack: message, input, signature: `slow|${target.name}` };
    }
  }
  return { outcome, ms, finding };
}

export function newStats(target: string): TargetStats {
  return { target, execs: 0, ok: 0, rejected: 0, maxMs: 0, findings: [], heap: [] };
}

/** Runs one target; adds to `stats` (so a long run can call this slice after slice). */
export function runTarget(target: FuzzTarget, options: RunOptions, stats: TargetStats = newStats(target.name)): TargetStats {
  const slowMs = options.slowMs ?? 2000;
  const batch = options.batch ?? 200;
  const one = (input: Uint8Array): void => {
    const r = execute(target, input, slowMs, options.watchdog);
    stats.execs++;
    stats.maxMs = Math.max(stats.maxMs, r.ms);
    if (r.outcome === 'ok') stats.ok++;
    else if (r.outcome === 'rejected') stats.rejected++;
    if (r.finding) {
      stats.findings.push(r.finding);
      options.onFinding?.(r.finding);
    }
  };
  if (!options.skipSeeds) for (const s of target.seeds()) one(s);
  const done = (n: number): boolean => (options.deadline !== undefined ? Date.now() >= options.deadline : n >= (options.runs ?? 0));
  let generated = 0;
  for (let b = 0; !done(generated); b++) {
    const want = options.deadline !== undefined ? batch : Math.min(batch, (options.runs ?? 0) - generated);
    for (const input of fc.sample(target.arbitrary, { numRuns: want, seed: (options.seed + b * 7919) | 0 })) {
      one(input);
      generated++;
      if (options.deadline !== undefined && Date.now() >= options.deadline) break;
    }
    if (options.memory && fullGc()) stats.heap.push(Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10);
  }
  return stats;
}

/**
 * Heap growth that a leak would show: the last quarter of the samples all sit
 * more than `slackMiB` above the lowest of the first quarter. Returns a
 * message, or null.
 */
export function heapGrowth(heap: readonly number[], slackMiB = 64): string | null {
  if (heap.length < 8) return null;
  const q = Math.floor(heap.length / 4);
  const base = Math.min(...heap.slice(0, q));
  const tail = heap.slice(-q);
  if (tail.every((h) => h > base + slackMiB)) return `heap after GC grew from ${base} MiB to ${Math.min(...tail)}..${Math.max(...tail)} MiB over ${heap.length} batches`;
  return null;
}

export function inputHash(input: Uint8Array): string {
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}
