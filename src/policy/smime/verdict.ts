/**
 * From an SmimeInspection to the `smime` stage's Verdict: the status that
 * stands (a valid signature whose signer is not the From address is only
 * `untrusted`, reason signer-mismatch), the X-Postern-SMIME field, the action
 * for tampered and invalid signatures, and the smime.message /
 * smime.signature events. Pure, so every decision is tested without a worker.
 */
import type { Direction, PolicyAction, PolicyEvent, Reason, Verdict } from '../../core/verdict.js';
import type { SmimeInspection } from './inspect.js';

export const SMIME_STAGE = 'smime';
export const SMIME_HEADER = 'X-Postern-SMIME';

export type SmimeStatus = 'valid' | 'tampered' | 'invalid' | 'untrusted' | 'malformed' | 'none';
export type SmimeAction = 'tag' | 'quarantine' | 'pass';

export interface SmimeDecisionOptions {
  readonly onTampered: SmimeAction;
  readonly onInvalid: SmimeAction;
}

export interface SmimeDecision {
  readonly status: SmimeStatus;
  readonly reason: string;
  /** The signer's address as the certificate names it (printable ASCII only), when there is one. */
  readonly signer?: string;
  /** The From address a valid signer was matched with: the one to learn the certificate for. */
  readonly learnFor?: string;
}

const MAX_SIGNER = 254;

/** Only printable ASCII without spaces: the certificate's text is the sender's and goes into a header field. */
const printable = (s: string): string => s.replace(/[^\x21-\x7e]/g, '').slice(0, MAX_SIGNER);

/** The status that stands, with the From check: a certificate vouches for its own address only. */
export function decide(i: SmimeInspection): SmimeDecision {
  if (!i.signed || i.status === undefined) return { status: 'none', reason: i.encrypted ? 'encrypted' : 'not signed' };
  const email = i.signer?.email ? printable(i.signer.email) : undefined;
  const withSigner = email ? { signer: email } : {};
  if (i.status !== 'valid') return { status: i.status, reason: i.reason ?? i.status, ...withSigner };
  // One From mailbox, and it is the certificate's: several authors cannot all be vouched for by one signer.
  if (!email || i.from.length !== 1 || i.from[0] !== email.toLowerCase()) {
    return { status: 'untrusted', reason: 'signer-mismatch', ...withSigner };
  }
  return { status: 'valid', reason: i.reason ?? 'valid', signer: email, learnFor: i.from[0] };
}

function actionFor(status: SmimeStatus, o: SmimeDecisionOptions): PolicyAction {
  const configured = status === 'tampered' ? o.onTampered : status === 'invalid' ? o.onInvalid : 'pass';
  return configured === 'quarantine' ? 'hold' : configured;
}

export function headerValueOf(d: SmimeDecision): string {
  return d.signer ? `${d.status} (signer ${d.signer})` : d.status;
}

export function smimeVerdict(i: SmimeInspection, direction: Direction, o: SmimeDecisionOptions): Verdict {
  const d = decide(i);
  // 'true'/'false': what the confidentiality report's yes() counts (src/admin/report/figure.ts).
  const flag = (b: boolean): string => (b ? 'true' : 'false');
  const events: PolicyEvent[] = [{ kind: 'smime.message', labels: { signed: flag(i.signed), encrypted: flag(i.encrypted), direction } }];
  if (i.signed) events.push({ kind: 'smime.signature', labels: { result: d.status, direction } });
  const facts: Record<string, string | boolean> = { smime: d.status };
  const reasons: Reason[] = [];
  if (d.status !== 'none' && d.status !== 'valid') reasons.push({ rule: `smime-${d.status}`, detail: d.reason.slice(0, 200) });
  if (i.forgedHeader) {
    // Ours is put on top; one below it came from the sender and must not be believed.
    facts['smime_forged_header'] = true;
    reasons.push({ rule: 'smime-forged-header', detail: `the message arrived with an ${SMIME_HEADER} field` });
  }
  // No field for an unsigned message, unless one arrived with it: then ours, on top, says "none".
  const headers: [string, string][] = d.status === 'none' && !i.forgedHeader ? [] : [[SMIME_HEADER, headerValueOf(d)]];
  return { stage: SMIME_STAGE, action: actionFor(d.status, o), reasons, headers, events, facts };
}
