/** The cheap half of the spoof checks: every detector over bounded facts. */
import { detectBogusTransaction } from './detectors/bogus-transaction.js';
import { detectDisplayName } from './detectors/display-name.js';
import { detectInternalForgery } from './detectors/internal-forgery.js';
import { detectLookalike } from './detectors/lookalike.js';
import { detectMalformedFrom } from './detectors/malformed-from.js';
import { detectOwnDomain } from './detectors/own-domain.js';
import { detectReplyTo } from './detectors/reply-to.js';
import type { DetectInput, DetectorName, Finding, MessageFacts, SpoofContext } from './types.js';

/** Runs the detectors (all, or those named in `only`) and returns their findings. Never throws. */
export function detect(facts: MessageFacts, input: DetectInput, ctx: SpoofContext, only?: readonly DetectorName[]): Finding[] {
  const on = (d: DetectorName): boolean => !only || only.includes(d);
  const out: Finding[] = [];
  const run = (d: DetectorName, f: () => Finding[]): void => {
    if (!on(d)) return;
    try {
      out.push(...f());
    } catch (err) {
      // A detector bug must not hide the others; it shows up as a finding of its own.
      out.push({ detector: d, origin: 'outside', result: 'error', reasons: [{ rule: `${d}.error`, detail: String(err).slice(0, 120) }] });
    }
  };
  run('own-domain', () => detectOwnDomain(facts, input, ctx));
  run('internal-forgery', () => detectInternalForgery(facts, input, ctx));
  run('display-name', () => detectDisplayName(facts, input, ctx));
  let lookalikes: Finding[] = [];
  try {
    lookalikes = detectLookalike(facts, input, ctx);
  } catch {
    lookalikes = [];
  }
  run('lookalike', () => lookalikes);
  run('reply-to', () => detectReplyTo(facts, input, ctx));
  run('bogus-transaction', () => detectBogusTransaction(facts, input, ctx, lookalikes.length > 0));
  run('malformed-from', () => detectMalformedFrom(facts, input, ctx));
  return out;
}
