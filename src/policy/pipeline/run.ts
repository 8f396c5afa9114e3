/**
 * Runs one phase of the pipeline: each stage in order, under its time
 * budget. A stage that throws or runs past its budget fails closed
 * (`tempfail`) unless it is configured to fail open, in which case it passes
 * with a reason that says so. The first reject or tempfail ends the phase:
 * later stages would not change the answer.
 *
 * When a batch starter is given and two or more of the stages due have pool
 * work, that work goes to one worker task up front (one copy of the message,
 * one round trip); each stage still waits under its own budget for its own
 * answer. A stage that runs out of budget before its answer stops the batch
 * as it would have stopped its own task, and the stages after it then run
 * their own tasks.
 */
import { strictest, type PolicyAction, type Verdict } from '../../core/verdict.js';
import type { PoolWork } from '../pool/batch.js';
import type { Stage, StageInput, StagePhase, StartBatch, WorkBatch } from './stage.js';

export interface StageSettings {
  /** Milliseconds the stage may take for one message. */
  readonly budgetMs: number;
  /** Pass instead of tempfail when the stage throws or times out (flagged as weak). */
  readonly failOpen: boolean;
}

export interface ConfiguredStage {
  readonly stage: Stage;
  readonly settings: StageSettings;
}

export interface PhaseResult {
  readonly verdicts: Verdict[];
  readonly action: PolicyAction;
}

class BudgetExceeded extends Error {
  constructor(ms: number) {
    super(`time budget of ${ms} ms exceeded`);
    this.name = 'BudgetExceeded';
  }
}

export async function runPhase(
  phase: StagePhase,
  stages: readonly ConfiguredStage[],
  input: Omit<StageInput, 'earlier'>,
  now: () => number,
  earlier: readonly Verdict[] = [],
  startBatch?: StartBatch,
): Promise<PhaseResult> {
  const verdicts: Verdict[] = [];
  const memo = input.memo ?? new Map<string, unknown>();
  const due = stages.filter(({ stage }) => stage.phase === phase && stage.directions.includes(input.direction) && (!stage.applies || stage.applies(input.envelope)));
  const ahead = startBatch ? batchAhead(due, { ...input, memo }, now, startBatch) : null;
  try {
    for (const [k, { stage, settings }] of due.entries()) {
      const slot = ahead?.slots[k];
      const pooled = ahead && slot !== undefined && ahead.batch.alive ? { batch: ahead.batch, slot } : undefined;
      const v = await runStage(stage, settings, { ...input, memo, earlier: [...earlier, ...verdicts] }, now, pooled);
      verdicts.push(v);
      if (v.action === 'reject' || v.action === 'tempfail') break;
    }
  } finally {
    ahead?.batch.stop();
  }
  return { verdicts, action: strictest(verdicts) };
}

/** The batch for the due stages' pool work, and each stage's item in it; null when fewer than two have work. */
function batchAhead(
  due: readonly ConfiguredStage[],
  input: Omit<StageInput, 'earlier'>,
  now: () => number,
  startBatch: StartBatch,
): { batch: WorkBatch; slots: (number | undefined)[] } | null {
  const works: PoolWork[] = [];
  const slots = due.map(({ stage }) => {
    const w = stage.poolWork?.(input, now);
    if (!w) return undefined;
    works.push(w);
    return works.length - 1;
  });
  if (works.length < 2) return null;
  return { batch: startBatch(input.raw, works), slots };
}

/** One stage under its budget; never throws. */
export async function runStage(
  stage: Stage,
  settings: StageSettings,
  input: StageInput,
  now: () => number,
  pooled?: { readonly batch: WorkBatch; readonly slot: number },
): Promise<Verdict> {
  const started = now();
  const ac = new AbortController();
  // Out of budget before its answer: the batch is stopped, as the stage's own task would have been.
  if (pooled) ac.signal.addEventListener('abort', () => pooled.batch.answered(pooled.slot) || pooled.batch.abort(), { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new BudgetExceeded(settings.budgetMs);
      ac.abort(e);
      reject(e);
    }, settings.budgetMs);
  });
  try {
    const run = stage.run(input, { signal: ac.signal, now, ...(pooled ? { pooled: pooled.batch.result(pooled.slot) } : {}) });
    // A stage that ignores its signal keeps running; its late answer (or error) is dropped.
    run.catch(() => undefined);
    const v = await Promise.race([run, timeout]);
    return { ...v, stage: stage.name, ms: now() - started };
  } catch (e) {
    return failed(stage.name, settings, e, now() - started);
  } finally {
    clearTimeout(timer);
  }
}

function failed(stage: string, settings: StageSettings, e: unknown, ms: number): Verdict {
  const timedOut = e instanceof BudgetExceeded || (e instanceof Error && (e as { code?: unknown }).code === 'TIMEOUT');
  const cause = timedOut ? 'timeout' : 'error';
  const detail = e instanceof Error ? e.message.slice(0, 200) : String(e).slice(0, 200);
  const action: PolicyAction = settings.failOpen ? 'pass' : 'tempfail';
  return {
    stage,
    action,
    reasons: [{ rule: settings.failOpen ? `fail-open:${cause}` : `fail-closed:${cause}`, detail }],
    headers: [],
    events: [{ kind: 'policy.stage_failed', labels: { stage, cause, action } }],
    reply: settings.failOpen ? undefined : `4.7.0 Message could not be checked (${stage}), try again later`,
    ms,
  };
}
