/**
 * The malware stage: every engine scans the message at once; a detection by
 * any of them decides (550 5.7.1 naming the signature in-line, quarantine or
 * a tag after the queue). When no engine found anything and one could not
 * answer, the stage throws, so the runner fails closed (451 in-line, the
 * message waits after the queue) unless the stage is set to fail open.
 */
import type { Direction, PolicyEvent, Reason, Verdict } from '../../core/verdict.js';
import { passVerdict } from '../../core/verdict.js';
import type { Stage, StagePhase } from '../pipeline/stage.js';
import { EngineUnavailable, type Detection, type ScanEngine } from './engine.js';
import type { EngineWatch } from './watch.js';

export const MALWARE_STAGE = 'malware';

export type MalwareAction = 'reject' | 'quarantine' | 'tag';

export interface MalwareStageOptions {
  readonly phase: StagePhase;
  readonly directions: readonly Direction[];
  readonly action: MalwareAction;
  readonly watch: EngineWatch;
}

/** A signature as it may appear in an SMTP reply or a header: printable, no spaces, bounded. */
export function safeSignature(s: string): string {
  return s.replace(/[^A-Za-z0-9._:/+-]/g, '_').slice(0, 100) || 'unnamed';
}

/** Runs every engine on `raw`; detections of all, or throws EngineUnavailable when none found anything and one failed. */
export async function scanAll(
  engines: readonly ScanEngine[],
  raw: Uint8Array,
  signal: AbortSignal,
  watch: EngineWatch,
  pooled?: { readonly engine: ScanEngine; readonly answer: Promise<unknown> },
): Promise<Detection[]> {
  const results = await Promise.allSettled(engines.map((e) => (pooled?.engine === e ? e.scan(raw, signal, pooled.answer) : e.scan(raw, signal))));
  const found: Detection[] = [];
  let failure: EngineUnavailable | null = null;
  results.forEach((r, i) => {
    const name = engines[i]!.name;
    if (r.status === 'fulfilled') {
      watch.up(name);
      found.push(...r.value.detections);
    } else {
      const err = r.reason instanceof EngineUnavailable ? r.reason : new EngineUnavailable(name, r.reason instanceof Error ? r.reason.message : String(r.reason), { cause: r.reason });
      // An abort is our budget running out, not the engine going down.
      if (!signal.aborted) watch.failed(name, err.message);
      failure ??= err;
    }
  });
  if (found.length === 0 && failure) throw failure;
  return found;
}

export function malwareVerdict(found: readonly Detection[], action: MalwareAction, direction: Direction, phase: StagePhase): Verdict {
  if (found.length === 0) return passVerdict(MALWARE_STAGE, { facts: { malware: false } });
  const first = found[0]!;
  const sig = safeSignature(first.signature);
  const reasons: Reason[] = found.map((d) => ({ rule: 'malware', detail: `${d.engine}: ${safeSignature(d.signature)}`, engine: d.engine, signature: d.signature, ...(d.part ? { part: d.part } : {}) }));
  const events: PolicyEvent[] = found.map((d) => ({
    kind: 'malware.detected',
    labels: { engine: d.engine, direction, action },
    data: { signature: safeSignature(d.signature), part: d.part, phase },
  }));
  const facts = { malware: true, engine: first.engine, signature: sig };
  if (action === 'reject') return { stage: MALWARE_STAGE, action: 'reject', reasons, headers: [], events, facts, reply: `5.7.1 Message refused: malware found (${sig})` };
  if (action === 'quarantine') return { stage: MALWARE_STAGE, action: 'hold', reasons, headers: [], events, facts };
  return { stage: MALWARE_STAGE, action: 'tag', reasons, headers: [['X-Postern-Malware', found.map((d) => `${safeSignature(d.signature)} (${d.engine})`).join(', ')]], events, facts };
}

export function malwareStage(engines: readonly ScanEngine[], o: MalwareStageOptions): Stage {
  const pooledEngine = engines.find((e) => e.poolWork);
  return {
    name: MALWARE_STAGE,
    phase: o.phase,
    directions: o.directions,
    // One engine's pool work can go ahead with other stages' (the first engine that has any).
    poolWork: () => pooledEngine?.poolWork?.(),
    async run(input, ctx) {
      const pooled = pooledEngine && ctx.pooled ? { engine: pooledEngine, answer: ctx.pooled } : undefined;
      const found = await scanAll(engines, input.raw, ctx.signal, o.watch, pooled);
      return malwareVerdict(found, o.action, input.direction, o.phase);
    },
  };
}
