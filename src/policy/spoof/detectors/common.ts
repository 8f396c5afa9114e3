/** What several detectors need: where the message comes from and who it claims to be. */
import type { Origin } from '../../../core/verdict.js';
import { cleanDomain, domainOf, inNetworks } from '../domains.js';
import type { DetectInput, MailboxFact, MessageFacts, SpoofContext } from '../types.js';

/** inside: an authenticated user, the local listener, or a client in internalNetworks. */
export function originOf(input: DetectInput, ctx: SpoofContext): Origin {
  if (input.authUser !== null || input.listener === 'local') return 'inside';
  return inNetworks(input.clientAddress, ctx.internalNetworks) ? 'inside' : 'outside';
}

/** From mailboxes that carry an address. */
export function fromMailboxes(facts: MessageFacts): readonly MailboxFact[] {
  return facts.from.mailboxes.filter((m) => m.address !== '');
}

export function envelopeDomain(input: DetectInput): string {
  return input.envelopeSender === '' ? '' : domainOf(input.envelopeSender);
}

export function lowerAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address.toLowerCase() : `${address.slice(0, at).toLowerCase()}@${cleanDomain(address.slice(at + 1))}`;
}

/** The auth stage vouched for the From domain (DMARC pass or an aligned DKIM signature). */
export function fromAuthenticated(input: DetectInput): boolean {
  return input.auth?.dmarc === 'pass' || input.auth?.dkimAlignedPass === true;
}

/** A mailing list or bulk sender by its own markers. */
export function isListMail(facts: MessageFacts): boolean {
  return facts.listId !== null || facts.listUnsubscribe || facts.precedence === 'list' || facts.precedence === 'bulk';
}
