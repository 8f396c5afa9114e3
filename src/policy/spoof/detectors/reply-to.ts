/**
 * reply-to: answers would go to another organisation than the one in From:
 * a Reply-To of a different organisational domain, or a Return-Path
 * (envelope sender) of one. Lists, bulk mail with an authenticated From and
 * the null sender are normal for Return-Path; a Reply-To to the list is fine.
 */
import { domainOf, orgDomain } from '../domains.js';
import { sanitize } from '../sanitize.js';
import type { DetectInput, Finding, MessageFacts, SpoofContext } from '../types.js';
import { fromAuthenticated, fromMailboxes, isListMail, originOf } from './common.js';

/** The domain a List-Id (`<name.domain>`) or List-Post (`<mailto:...>`) points to. */
function listDomains(facts: MessageFacts): string[] {
  const out: string[] = [];
  if (facts.listId) {
    const inner = /<([^<>]{1,250})>/.exec(facts.listId)?.[1] ?? facts.listId;
    const dot = inner.indexOf('.');
    if (dot > 0) out.push(inner.slice(dot + 1).toLowerCase());
  }
  if (facts.listPost) {
    const mail = /mailto:([^>?,\s]{1,250})/i.exec(facts.listPost)?.[1];
    if (mail) out.push(domainOf(mail));
  }
  // Old list software marks itself with Precedence and Sender only.
  if (isListMail(facts)) for (const m of facts.sender?.mailboxes ?? []) if (m.domain) out.push(m.domain);
  return out.map(orgDomain);
}

export function detectReplyTo(facts: MessageFacts, input: DetectInput, ctx: SpoofContext): Finding[] {
  if (originOf(input, ctx) !== 'outside') return [];
  const fromOrgs = new Set(fromMailboxes(facts).map((m) => orgDomain(m.domain)));
  if (fromOrgs.size === 0) return [];
  const out: Finding[] = [];
  const lists = listDomains(facts);
  const replyTo = (facts.replyTo?.mailboxes ?? []).find((m) => m.address !== '' && !fromOrgs.has(orgDomain(m.domain)) && !lists.includes(orgDomain(m.domain)));
  if (replyTo) {
    out.push({
      detector: 'reply-to', origin: 'outside', result: 'reply-to-other-org', claimed: sanitize(replyTo.address),
      reasons: [{ rule: 'reply-to.reply-to', detail: `Reply-To ${sanitize(replyTo.address)} is not the organisation of From` }],
    });
  }
  const returnPath = input.envelopeSender;
  if (returnPath !== '' && !isListMail(facts) && !fromAuthenticated(input)) {
    const d = domainOf(returnPath);
    if (d && !fromOrgs.has(orgDomain(d))) {
      out.push({
        detector: 'reply-to', origin: 'outside', result: 'return-path-other-org', claimed: sanitize(returnPath),
        reasons: [{ rule: 'reply-to.return-path', detail: `Return-Path ${sanitize(returnPath)} is not the organisation of From` }],
      });
    }
  }
  return out;
}
