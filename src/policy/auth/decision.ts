/**
 * What postern does with a message given its DMARC outcome (RFC 7489 §6.6):
 * the published policy, sampled by pct (§6.6.4), changed by local overrides
 * and by trusted ARC sealers (RFC 8617 §7.2). Pure: same outcome, same answer.
 */
import { normalizeDomain } from './alignment.js';
import type { AuthOutcome, DmarcPolicy } from './types.js';

export type DmarcAction = 'pass' | 'junk' | 'reject' | 'tempfail';
export type DmarcOverride = DmarcPolicy | 'policy';

export interface DmarcDecisionOptions {
  /** What a DNS failure during DMARC means: 'tempfail' (default, 4xx) or 'pass'. */
  readonly temperror?: 'tempfail' | 'pass';
  /** Per From domain (exact, or a parent domain of it): a fixed policy, or 'policy' to follow the published one. */
  readonly overrides?: Readonly<Record<string, DmarcOverride>>;
  /** ARC sealer domains (d= of the newest ARC-Seal) whose authentication results postern trusts. */
  readonly trustedArcSealers?: readonly string[];
}

export interface DmarcDecision {
  readonly action: DmarcAction;
  /** A short rule name and what led to it, e.g. "dmarc-reject: example.com p=reject". */
  readonly reason: string;
  /** For reject and tempfail: the enhanced status and text, without the 3-digit code. */
  readonly reply?: string;
}

const POLICY_ACTION: Record<DmarcPolicy, DmarcAction> = { none: 'pass', quarantine: 'junk', reject: 'reject' };

export function dmarcDecision(outcome: AuthOutcome, opts: DmarcDecisionOptions = {}): DmarcDecision {
  const d = outcome.dmarc;
  const override = overrideFor(d.domain, opts.overrides);
  if (override === 'none') return { action: 'pass', reason: `dmarc-override: ${d.domain} none` };
  switch (d.result) {
    case 'pass':
      return { action: 'pass', reason: `dmarc-pass: ${d.domain}` };
    case 'none':
      return { action: 'pass', reason: `dmarc-none: ${d.domain || 'no domain'}` };
    case 'permerror':
      // No single From domain: no policy can be found, and a second From must not be a way around one.
      return { action: 'junk', reason: `dmarc-permerror: ${d.comment}` };
    case 'temperror':
      if (opts.temperror === 'pass') return { action: 'pass', reason: `dmarc-temperror-accepted: ${d.comment}` };
      return { action: 'tempfail', reason: `dmarc-temperror: ${d.comment}`, reply: `4.7.5 DMARC check of ${d.domain || 'the sender'} failed temporarily, try again later` };
    case 'fail':
      break;
  }

  if (arcOverride(outcome, opts.trustedArcSealers)) {
    return { action: 'pass', reason: `arc-override: ${d.domain} sealed by ${outcome.arc.sealers[0] ?? ''}` };
  }
  let policy: DmarcPolicy = d.policy ?? 'none';
  let sampled = '';
  if (override === 'quarantine' || override === 'reject') policy = override;
  else if (d.pct < 100 && d.sample >= d.pct && policy !== 'none') {
    // Outside the pct sample the next weaker policy applies (RFC 7489 §6.6.4).
    policy = policy === 'reject' ? 'quarantine' : 'none';
    sampled = ` (outside pct=${d.pct})`;
  }
  const action = POLICY_ACTION[policy];
  const reason = `dmarc-${policy === 'none' ? 'fail-none' : policy}: ${d.domain} p=${policy}${override ? ` override=${override}` : ''}${sampled}`;
  if (action === 'reject') return { action, reason, reply: `5.7.1 Message rejected by the DMARC policy of ${d.domain}` };
  return { action, reason };
}

/** The override for the From domain or its nearest listed parent. */
function overrideFor(domain: string, overrides: Readonly<Record<string, DmarcOverride>> | undefined): DmarcOverride | undefined {
  if (!overrides || domain === '') return undefined;
  const table = new Map(Object.entries(overrides).map(([k, v]) => [normalizeDomain(k), v]));
  const labels = normalizeDomain(domain).split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const v = table.get(labels.slice(i).join('.'));
    if (v) return v;
  }
  return undefined;
}

/** RFC 8617 §7.2: a valid chain whose newest sealer we trust vouched for the message before it was changed. */
function arcOverride(outcome: AuthOutcome, trusted: readonly string[] | undefined): boolean {
  const arc = outcome.arc;
  if (!trusted || trusted.length === 0 || arc.result !== 'pass' || !arc.upstream) return false;
  const sealer = arc.sealers[0];
  if (!sealer || !trusted.some((t) => normalizeDomain(t) === sealer)) return false;
  const u = arc.upstream;
  return u.dmarc === 'pass' || u.dkimAligned || u.spfAligned;
}
