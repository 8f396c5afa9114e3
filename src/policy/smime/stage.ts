/**
 * The `smime` stage: the message is inspected in a pool worker under the
 * stage's budget ('smime.verify': find the signature, verify it against the
 * trust anchors), verdict.ts decides, and the certificate of a valid signer
 * is handed to `learn` so it can be kept for its address. Learning is best
 * effort: a failure there never changes the verdict.
 */
import type { Direction } from '../../core/verdict.js';
import type { Stage, StagePhase } from '../pipeline/stage.js';
import type { PolicyPool } from '../pool/index.js';
import type { SmimeInspection } from './inspect.js';
import { decide, SMIME_STAGE, smimeVerdict, type SmimeAction } from './verdict.js';

export interface SmimeStageOptions {
  readonly pool: Pick<PolicyPool, 'run'>;
  readonly phase: StagePhase;
  readonly directions: readonly Direction[];
  readonly budgetMs: number;
  /** The trust anchors file's text (PEM); '' for none. */
  readonly anchorsPem: string;
  readonly onTampered: SmimeAction;
  readonly onInvalid: SmimeAction;
  /** Keeps a valid signer's certificate (DER) for the From address; absent = learn nothing. */
  readonly learn?: (address: string, der: Uint8Array) => Promise<void>;
}

function isInspection(x: unknown): x is SmimeInspection {
  const o = x as Partial<SmimeInspection> | null;
  return typeof o === 'object' && o !== null && typeof o.signed === 'boolean' && typeof o.encrypted === 'boolean' && Array.isArray(o.from) && typeof o.forgedHeader === 'boolean';
}

export function smimeStage(o: SmimeStageOptions): Stage {
  return {
    name: SMIME_STAGE,
    phase: o.phase,
    directions: o.directions,
    // `at` is when the work is asked for: in a batch, a moment before the stage's turn.
    poolWork: (_input, now) => ({ task: 'smime.verify', input: { anchors: o.anchorsPem, at: now() }, budgetMs: o.budgetMs }),
    async run(input, ctx) {
      const found = await (ctx.pooled ?? o.pool.run<unknown>('smime.verify', { raw: input.raw, anchors: o.anchorsPem, at: ctx.now() }, { budgetMs: o.budgetMs, signal: ctx.signal }));
      if (!isInspection(found)) throw new Error('smime: the worker gave a malformed answer');
      const verdict = smimeVerdict(found, input.direction, { onTampered: o.onTampered, onInvalid: o.onInvalid });
      const d = decide(found);
      if (o.learn && d.learnFor && found.signerCert instanceof Uint8Array) {
        try {
          await o.learn(d.learnFor, found.signerCert);
        } catch {
          // The certificate is learned again from the sender's next signed message.
        }
      }
      return verdict;
    },
  };
}
