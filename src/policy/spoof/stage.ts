/**
 * The spoof stage: message facts are extracted in a worker thread (parsing
 * grows with the input), the detectors run here over those bounded facts and
 * the directory's view, and the findings become one verdict.
 */
import type { Verdict } from '../../core/verdict.js';
import type { Stage, StagePhase } from '../pipeline/stage.js';
import type { PolicyPool } from '../pool/index.js';
import { detect } from './detect.js';
import type { DetectInput, DetectorName, MessageFacts, SpoofAction, SpoofContext } from './types.js';
import { spoofVerdict, SPOOF_STAGE } from './verdict.js';

export interface SpoofStageOptions {
  readonly pool: PolicyPool;
  readonly budgetMs: number;
  readonly phase: StagePhase;
  /** The organisation as the detectors see it (local domains, people); cached by the caller. */
  readonly context: () => Promise<SpoofContext>;
  readonly actions: Partial<Record<DetectorName, SpoofAction>>;
}

/** What the auth stage found, from its facts, when it ran before this one. */
export function authFacts(earlier: readonly Verdict[]): DetectInput['auth'] {
  const f = earlier.find((v) => v.stage === 'auth')?.facts;
  if (!f) return undefined;
  return { spf: String(f.spf ?? 'none'), dmarc: String(f.dmarc ?? 'none'), dkimAlignedPass: f.dkim_aligned === true };
}

export function spoofStage(o: SpoofStageOptions): Stage {
  return {
    name: SPOOF_STAGE,
    phase: o.phase,
    directions: ['inbound', 'outbound', 'internal'],
    async run(input, ctx) {
      // The auth stage may have extracted them already, in its own worker task (same bytes, same phase).
      const memo = input.memo?.get('spoof.facts') as MessageFacts | undefined;
      const facts = memo ?? (await o.pool.run<MessageFacts>('spoof.facts', { raw: input.raw }, { budgetMs: o.budgetMs, signal: ctx.signal }));
      const e = input.envelope;
      const auth = authFacts(input.earlier);
      const findings = detect(
        facts,
        { envelopeSender: e.sender, helo: e.helo, clientAddress: e.clientAddress, listener: e.listener, authUser: e.authUser, ...(auth ? { auth } : {}) },
        await o.context(),
      );
      return spoofVerdict(findings, o.actions);
    },
  };
}
