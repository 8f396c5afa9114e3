/**
 * bogus-transaction: a request to change bank details, wire money urgently
 * or buy gift cards, from outside or from a lookalike sender. A sender of
 * ours who logged in is never a finding. Bulk and list mail (List-Id,
 * Precedence) is left alone unless the sender is a lookalike, because
 * honest newsletters talk about payments too.
 */
import { fraudPhrases } from '../phrases.js';
import type { DetectInput, Finding, MessageFacts, SpoofContext } from '../types.js';
import { originOf } from './common.js';

export function detectBogusTransaction(facts: MessageFacts, input: DetectInput, ctx: SpoofContext, lookalikeSender: boolean): Finding[] {
  if (input.authUser !== null) return [];
  const outside = originOf(input, ctx) === 'outside';
  if (!outside && !lookalikeSender) return [];
  const bulk = facts.listId !== null || facts.precedence === 'list' || facts.precedence === 'bulk';
  if (bulk && !lookalikeSender) return [];
  const found = fraudPhrases(`${facts.subject ?? ''}\n${facts.bodyText}`);
  const first = found[0];
  if (!first) return [];
  return [{
    detector: 'bogus-transaction', origin: outside ? 'outside' : 'inside', result: first.category,
    reasons: found.map((f) => ({ rule: `bogus-transaction.${f.category}`, detail: `"${f.sample}"${lookalikeSender ? ' from a lookalike sender' : ''}` })),
  }];
}
