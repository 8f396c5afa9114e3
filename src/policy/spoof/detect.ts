/** The cheap half of the spoof checks: every detector over bounded facts. */
import { detectBogusTransaction } from './detectors/bogus-transaction.js';
import { detectDisplayName } from './detectors/display-name.js';
import { detectInternalForgery } from './detectors/internal-forgery.js';
import { detectLookalike } from './detectors/lookalike.js';
import { detectMalformedFrom } from './detectors/malformed-from.js';
import { detectOwnDomain } from './detectors/own-domain.js';
import { detectReplyTo } from './detectors/reply-to.js';
import { sanitize } from './sanitize.js';
import type { DetectInput, DetectorName, Finding, MessageFacts, SpoofContext } from './types.js';

/** Runs the detectors (all, or those named in `only`) and returns their findings. Never throws. */
export function detect(facts: MessageFacts, input: DetectInput, ctx: SpoofContext, only?: readonly DetectorName[]): Finding[] {
  const on = (d: DetectorName): boolean => !only || only.includes(d);
  const guarded = (d: DetectorName, f: () => Finding[]): Finding[] => {
    try {
      return f();
    } catch (err) {
      // A detector bug must not hide the others; it shows up as a finding of its own.
      return [{ detector: d, origin: 'outside', result: 'error', reasons: [{ rule: `${d}.error`, detail: sanitize(String(err), 120) }] }];
    }
  };
  const out: Finding[] = [];
  const run = (d: DetectorName, f: () => Finding[]): void => {
    if (on(d)) out.push(...guarded(d, f));
  };
  run('own-domain', () => detectOwnDomain(facts, input, ctx));
  run('internal-forgery', () => detectInternalForgery(facts, input, ctx));
  run('display-name', () => detectDisplayName(facts, input, ctx));
  // bogus-transaction asks whether the sender is a lookalike, even when lookalike itself is not wanted.
  const lookalikes = guarded('lookalike', () => detectLookalike(facts, input, ctx));
  if (on('lookalike')) out.push(...lookalikes);
  const lookalikeSender = lookalikes.some((f) => f.result !== 'error');
  run('reply-to', () => detectReplyTo(facts, input, ctx));
  run('bogus-transaction', () => detectBogusTransaction(facts, input, ctx, lookalikeSender));
  run('malformed-from', () => detectMalformedFrom(facts, input, ctx));
  return out;
}
