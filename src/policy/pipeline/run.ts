/**
 * Runs one phase of the pipeline: each stage in order, under its time
 * budget. A stage that throws or runs past its budget fails closed
 * (`tempfail`) unless it is configured to fail open, in which case it passes
 * with a reason that says so. The first reject or tempfail ends the phase:
 * later stages would not change the answer.
 */
import { strictest, type PolicyAction, type Verdict } from '../../core/verdict.js';
import type { Stage, StageInput, StagePhase } from './stage.js';

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
): Promise<PhaseResult> {
  const verdicts: Verdict[] = [];
  const memo = input.memo ?? new Map<string, unknown>();
  for (const { stage, settings } of stages) {
    if (stage.phase !== phase || !stage.directions.includes(input.direction)) continue;
    if (stage.applies && !stage.applies(input.envelope)) continue;
    const v = await runStage(stage, settings, { ...input, memo, earlier: [...earlier, ...verdicts] }, now);
    verdicts.push(v);
    if (v.action === 'reject' || v.action === 'tempfail') break;
  }
  return { verdicts, action: strictest(verdicts) };
}

/** One stage under its budget; never throws. */
export async function runStage(stage: Stage, settings: StageSettings, input: StageInput, now: () => number): Promise<Verdict> {
  const started = now();
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new BudgetExceeded(settings.budgetMs);
      ac.abort(e);
      reject(e);
    }, settings.budgetMs);
  });
  try {
    const run = stage.run(input, { signal: ac.signal, now });
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
