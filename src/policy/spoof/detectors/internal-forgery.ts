/**
 * internal-forgery: a logged-in user who writes as someone else of ours, or
 * a host on an internal network that hands the MX mail from a local sender
 * without logging in (a compromised device or a misused relay).
 */
import { isOwned } from '../domains.js';
import { sanitize } from '../sanitize.js';
import type { DetectInput, Finding, MessageFacts, SpoofContext } from '../types.js';
import { envelopeDomain, fromMailboxes, lowerAddress, originOf } from './common.js';

export function detectInternalForgery(facts: MessageFacts, input: DetectInput, ctx: SpoofContext): Finding[] {
  const out: Finding[] = [];
  const env = envelopeDomain(input);
  const localFrom = fromMailboxes(facts).filter((m) => isOwned(m.domain, ctx.localDomains));
  if (input.authUser !== null) {
    // A bare account name cannot be compared with an address; only user@domain logins are checked.
    if (!input.authUser.includes('@')) return [];
    const user = lowerAddress(input.authUser);
    // The account's own address and the aliases that reach only it are the user's to write as.
    const own = new Set([user, ...(ctx.sendAs?.get(user) ?? []).map(lowerAddress)]);
    const other = localFrom.find((m) => !own.has(lowerAddress(m.address)));
    if (other) {
      out.push({
        detector: 'internal-forgery', origin: 'inside', result: 'auth-mismatch-from', claimed: sanitize(other.address),
        reasons: [{ rule: 'internal-forgery.from', detail: `logged in as ${sanitize(user)}, From ${sanitize(other.address)}` }],
      });
    }
    if (env && isOwned(env, ctx.localDomains) && !own.has(lowerAddress(input.envelopeSender))) {
      out.push({
        detector: 'internal-forgery', origin: 'inside', result: 'auth-mismatch-envelope', claimed: sanitize(input.envelopeSender),
        reasons: [{ rule: 'internal-forgery.envelope', detail: `logged in as ${sanitize(user)}, MAIL FROM ${sanitize(input.envelopeSender)}` }],
      });
    }
    return out;
  }
  if (input.listener === 'mx' && originOf(input, ctx) === 'inside') {
    const claimed = localFrom[0]?.address ?? (env && isOwned(env, ctx.localDomains) ? input.envelopeSender : null);
    if (claimed) {
      out.push({
        detector: 'internal-forgery', origin: 'inside', result: 'unauthenticated-internal', claimed: sanitize(claimed),
        reasons: [{ rule: 'internal-forgery.unauthenticated', detail: `${sanitize(input.clientAddress, 45)} sent as ${sanitize(claimed)} without logging in` }],
      });
    }
  }
  return out;
}
