/**
 * The auth stage (in-line, inbound): SPF, DKIM, ARC and DMARC are verified in
 * a worker thread, with DNS answered by the main thread's resolver; the
 * outcome becomes our Authentication-Results field, the DMARC decision
 * (reject → 550 5.7.1, quarantine → the recipient's Junk folder, DNS failure
 * → 451 where configured) and events to count.
 */
import type { PolicyAction, PolicyEvent, Verdict } from '../../core/verdict.js';
import type { DnsResolver } from '../../net/dns/types.js';
import type { MessageEnvelope, Stage } from '../pipeline/stage.js';
import type { PolicyPool } from '../pool/index.js';
import { dmarcDecision, type DmarcDecisionOptions } from './decision.js';
import type { AuthInput, AuthOutcome } from './types.js';

export interface AuthStageOptions {
  readonly pool: PolicyPool;
  readonly resolver: DnsResolver;
  readonly budgetMs: number;
  readonly authservId: string;
  readonly mta: string;
  readonly decision: DmarcDecisionOptions;
  /** Also extract the spoof stage's facts in the same worker task (when that stage runs in-line after this one). */
  readonly withSpoofFacts?: boolean;
}

/** Where the auth stage leaves the spoof facts it extracted along the way. */
export const SPOOF_FACTS_MEMO = 'spoof.facts';

/** The verdict for one outcome; pure, so the decision table is testable without a worker. */
export function authVerdict(outcome: AuthOutcome, decision: DmarcDecisionOptions): Verdict {
  const d = dmarcDecision(outcome, decision);
  const action: PolicyAction = d.action === 'junk' ? 'tag' : d.action;
  const dkimBest = outcome.dkim.find((s) => s.result === 'pass')?.result ?? outcome.dkim[0]?.result ?? 'none';
  const dkimAligned = outcome.dkim.some((s) => s.result === 'pass' && s.aligned);
  const events: PolicyEvent[] = [
    {
      kind: 'auth.result',
      labels: { spf: outcome.spf.result, dkim: dkimBest, dmarc: outcome.dmarc.result, arc: outcome.arc.result, action: d.action },
    },
  ];
  // A From domain whose owner's DMARC check failed: a forgery by the sender's own standard.
  if (outcome.dmarc.result === 'fail') {
    const overridden = d.reason.startsWith('arc-override');
    events.push({ kind: 'spoof.detected', labels: { detector: 'dmarc', origin: 'outside', result: overridden ? 'fail-arc-override' : 'fail', action: d.action } });
  }
  return {
    stage: 'auth',
    action,
    reasons: [
      { rule: d.reason.split(':')[0] ?? 'dmarc', detail: d.reason.slice(d.reason.indexOf(':') + 1).trim().slice(0, 200) },
      { rule: 'spf', detail: `${outcome.spf.result} (${outcome.spf.domain || '-'}), helo ${outcome.spf.helo}` },
      ...outcome.dkim.slice(0, 4).map((s) => ({ rule: 'dkim', detail: `${s.result} d=${s.domain} s=${s.selector}${s.aligned ? ' aligned' : ''}` })),
      ...(outcome.arc.length > 0 ? [{ rule: 'arc', detail: `${outcome.arc.result} i=${outcome.arc.length} ${outcome.arc.sealers.slice(0, 3).join(',')}` }] : []),
    ],
    headers: [['Authentication-Results', outcome.header]],
    events,
    ...(d.action === 'junk' ? { junk: true } : {}),
    ...(d.reply ? { reply: d.reply } : {}),
    facts: {
      spf: outcome.spf.result,
      dmarc: outcome.dmarc.result,
      dkim_aligned: dkimAligned,
      arc: outcome.arc.result,
      from_domain: outcome.dmarc.domain.slice(0, 253),
    },
  };
}

export function authStage(o: AuthStageOptions): Stage {
  // With the spoof facts along: the message crosses to the thread and is parsed there once for both stages.
  const task = o.withSpoofFacts ? 'auth.inspect' : 'auth.verify';
  const taskInput = (e: MessageEnvelope): Omit<AuthInput, 'raw'> => ({ sender: e.sender, helo: e.helo, ip: e.clientAddress, authservId: o.authservId, mta: o.mta });
  return {
    name: 'auth',
    phase: 'inline',
    directions: ['inbound'],
    poolWork: (input) => ({ task, input: taskInput(input.envelope), budgetMs: o.budgetMs, resolver: o.resolver }),
    async run(input, ctx) {
      const run = { budgetMs: o.budgetMs, signal: ctx.signal, resolver: o.resolver };
      const answer = await (ctx.pooled ?? o.pool.run<unknown>(task, { ...taskInput(input.envelope), raw: input.raw }, run));
      if (o.withSpoofFacts) {
        const both = answer as { outcome: AuthOutcome; facts: unknown };
        input.memo?.set(SPOOF_FACTS_MEMO, both.facts);
        return authVerdict(both.outcome, o.decision);
      }
      return authVerdict(answer as AuthOutcome, o.decision);
    },
  };
}
