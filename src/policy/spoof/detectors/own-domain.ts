/**
 * own-domain: mail from the Internet that claims one of our own domains in
 * the envelope or in From. A third party that sends for us legitimately
 * passes DMARC or signs with an aligned DKIM key; an SPF pass of a local
 * envelope domain means our own DNS authorises the host.
 */
import { isOwned } from '../domains.js';
import { sanitize } from '../sanitize.js';
import type { DetectInput, Finding, MessageFacts, SpoofContext } from '../types.js';
import { envelopeDomain, fromAuthenticated, fromMailboxes, originOf } from './common.js';

export function detectOwnDomain(facts: MessageFacts, input: DetectInput, ctx: SpoofContext): Finding[] {
  if (input.listener !== 'mx' || input.authUser !== null || originOf(input, ctx) !== 'outside') return [];
  const out: Finding[] = [];
  const from = fromMailboxes(facts).find((m) => isOwned(m.domain, ctx.localDomains));
  // DMARC vouches for the From domain only: for ours when From is ours, not for a local envelope under a foreign From.
  const oursAuthenticated = from !== undefined && fromAuthenticated(input);
  if (from && !oursAuthenticated) {
    out.push({
      detector: 'own-domain', origin: 'outside', result: 'forged-from', claimed: sanitize(from.address),
      reasons: [{ rule: 'own-domain.from', detail: `From ${sanitize(from.address)} is a local domain, not authenticated` }],
    });
  }
  const env = envelopeDomain(input);
  if (env && isOwned(env, ctx.localDomains) && input.auth?.spf !== 'pass' && !oursAuthenticated) {
    out.push({
      detector: 'own-domain', origin: 'outside', result: 'forged-envelope', claimed: sanitize(input.envelopeSender),
      reasons: [{ rule: 'own-domain.envelope', detail: `MAIL FROM ${sanitize(input.envelopeSender)} is a local domain, not authenticated` }],
    });
  }
  return out;
}
