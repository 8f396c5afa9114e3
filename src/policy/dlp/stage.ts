/**
 * The `dlp` stage: the message is extracted and classified in a pool worker
 * under the stage's budget (the rules travel with it; the worker keeps the
 * compiled detectors per rules version), the sender and recipients are
 * attributed here from the directory, and stage-verdict.ts decides. One stage
 * object per phase, like the malware stage: each direction runs in-line or
 * after the queue as [policy.dlp] phase says.
 */
import type { Direction } from '../../core/verdict.js';
import type { Stage, StagePhase } from '../pipeline/stage.js';
import type { PolicyPool } from '../pool/index.js';
import { attribute, type DirectorySnapshot } from './attribution.js';
import { dlpVerdict, DLP_STAGE } from './stage-verdict.js';
import type { Classification, ContentLimits, RulesSpec } from './types.js';

export interface DlpStageOptions {
  readonly pool: PolicyPool;
  readonly phase: StagePhase;
  readonly directions: readonly Direction[];
  readonly budgetMs: number;
  readonly limits: ContentLimits;
  /** The rules in force (WatchedRules.current). */
  readonly rules: () => RulesSpec;
  readonly directory: () => Promise<DirectorySnapshot>;
}

function isClassification(x: unknown): x is Classification {
  const o = x as Partial<Classification> | null;
  return typeof o === 'object' && o !== null && Array.isArray(o.matches) && Array.isArray(o.nearMisses) && Array.isArray(o.findings) && typeof o.encrypted === 'boolean';
}

export function dlpStage(o: DlpStageOptions): Stage {
  return {
    name: DLP_STAGE,
    phase: o.phase,
    directions: o.directions,
    async run(input, ctx) {
      const rules = o.rules();
      const [c, snap] = await Promise.all([
        o.pool.run<unknown>('dlp.classify', { raw: input.raw, rules, limits: o.limits }, { budgetMs: o.budgetMs, signal: ctx.signal }),
        o.directory(),
      ]);
      if (!isClassification(c)) throw new Error('dlp: the worker gave a malformed answer');
      const verdict = dlpVerdict({
        classification: c,
        rules,
        direction: input.direction,
        phase: o.phase,
        attribution: attribute(input.envelope, snap, rules),
        queueId: input.queueId,
        recipients: input.envelope.recipients,
      });
      return { ...verdict, facts: { ...verdict.facts, dlp_ms: c.ms, dlp_chars: c.chars } };
    },
  };
}
