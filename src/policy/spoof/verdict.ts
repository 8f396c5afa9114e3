/** Findings into a Verdict: the strictest configured action, a header, a banner, one event per finding. */
import type { PolicyAction, PolicyEvent, Reason, Verdict } from '../../core/verdict.js';
import { sanitize, sanitizeAscii } from './sanitize.js';
import type { DetectorName, Finding, SpoofAction } from './types.js';

export const SPOOF_STAGE = 'spoof';

export const DEFAULT_SPOOF_ACTIONS: Readonly<Record<DetectorName, SpoofAction>> = {
  'own-domain': 'quarantine',
  'internal-forgery': 'tag',
  'display-name': 'tag',
  lookalike: 'tag',
  'reply-to': 'tag',
  'bogus-transaction': 'tag',
  'malformed-from': 'tag',
};

const TO_POLICY: Readonly<Record<Exclude<SpoofAction, 'off'>, PolicyAction>> = { tag: 'tag', quarantine: 'hold', reject: 'reject' };
const RANK: readonly PolicyAction[] = ['pass', 'tag', 'hold', 'tempfail', 'reject'];
const MAX_HEADER_ITEMS = 10;
const MAX_BANNER_LINES = 3;

function explain(f: Finding): string {
  const who = f.claimed ? sanitizeAscii(f.claimed, 80) : 'a sender';
  switch (f.detector) {
    case 'own-domain':
      return `this message claims to come from ${who}, one of our own addresses, but it came from outside and is not authenticated.`;
    case 'internal-forgery':
      return `this message claims to come from ${who}, but it was sent by someone else.`;
    case 'display-name':
      return f.result === 'impersonation'
        ? `this message uses the name "${who}" of a colleague, but it comes from an outside address.`
        : `this message shows the address ${who} in its name, but it comes from a different address.`;
    case 'lookalike':
      return `this message comes from ${who}, a domain that imitates a domain we know.`;
    case 'reply-to':
      return `replies to this message would go to ${who}, a different organisation than the sender.`;
    case 'bogus-transaction':
      return 'this message from outside asks for a payment or a change of bank details. Confirm by phone before acting.';
    case 'malformed-from':
      return 'the sender of this message is hidden or ambiguous.';
  }
}

/** The banner text for a set of findings (ASCII, no attacker text longer than 80 characters). */
export function bannerText(findings: readonly Finding[]): string {
  const lines = findings.slice(0, MAX_BANNER_LINES).map((f) => `CAUTION: ${explain(f)}`);
  return [...new Set(lines)].join('\n');
}

/**
 * The spoof stage's verdict. `actions` overrides `defaults` per detector;
 * 'off' drops that detector's findings, 'quarantine' becomes 'hold'.
 */
export function spoofVerdict(
  findings: readonly Finding[],
  actions: Partial<Record<DetectorName, SpoofAction>> = {},
  defaults: Readonly<Record<DetectorName, SpoofAction>> = DEFAULT_SPOOF_ACTIONS,
): Verdict {
  let action: PolicyAction = 'pass';
  const kept: { f: Finding; a: PolicyAction }[] = [];
  for (const f of findings) {
    const configured = actions[f.detector] ?? defaults[f.detector] ?? 'tag';
    if (configured === 'off') continue;
    const a = TO_POLICY[configured];
    kept.push({ f, a });
    if (RANK.indexOf(a) > RANK.indexOf(action)) action = a;
  }
  if (kept.length === 0) return { stage: SPOOF_STAGE, action: 'pass', reasons: [], headers: [], events: [] };
  const reasons: Reason[] = kept.flatMap(({ f }) => f.reasons.map((r) => ({ ...r, detail: r.detail === undefined ? undefined : sanitize(r.detail, 160) })));
  const items = [...new Set(kept.map(({ f }) => `${f.detector}=${f.result}`))];
  const header = items.slice(0, MAX_HEADER_ITEMS).join('; ');
  const events: PolicyEvent[] = kept.map(({ f, a }) => ({
    kind: 'spoof.detected',
    labels: { detector: f.detector, origin: f.origin, result: f.result, action: a },
  }));
  const worst = kept.filter(({ a }) => a === action).map(({ f }) => f);
  const verdict: Verdict = {
    stage: SPOOF_STAGE,
    action,
    reasons,
    headers: [['X-Postern-Spoof', header]],
    events,
    facts: { spoof_findings: kept.length, spoof_lookalike: kept.some(({ f }) => f.detector === 'lookalike') },
    ...(action === 'reject'
      ? { reply: `5.7.1 Message refused: forged sender (${[...new Set(worst.map((f) => f.detector))].join(', ')})` }
      : { banner: bannerText([...worst, ...kept.map(({ f }) => f).filter((f) => !worst.includes(f))]) }),
  };
  return verdict;
}
