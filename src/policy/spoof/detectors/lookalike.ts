/**
 * lookalike: a sender domain (From or envelope) made to be read as one of
 * ours or a partner's: the same TR39 skeleton (examp1e, exarnple, a Cyrillic
 * "е"), letters of several scripts in one label, or a registrable label one
 * typo away. A domain we protect, or a subdomain of one, is never a lookalike.
 */
import { isMixedScript, skeleton } from '../confusables.js';
import { asciiDomain, isOwned, orgDomain, splitRegistrable, unicodeDomain } from '../domains.js';
import { editDistance } from '../edit-distance.js';
import { sanitize } from '../sanitize.js';
import type { DetectInput, Finding, MessageFacts, SpoofContext } from '../types.js';
import { envelopeDomain, fromMailboxes, originOf } from './common.js';

/** Labels shorter than this are not compared by edit distance (too many honest neighbours). */
const MIN_EDIT_LABEL = 5;

interface Match {
  readonly result: 'homoglyph' | 'confusable' | 'mixed-script' | 'edit-distance';
  readonly target: string | null;
}

function judge(domain: string, protectedDomains: readonly string[], maxDistance: number): Match | null {
  if (isOwned(domain, protectedDomains)) return null;
  const uni = unicodeDomain(domain);
  const nonAscii = /[^\p{ASCII}]/u.test(uni);
  const mine = splitRegistrable(domain);
  const mineSkel = skeleton(mine.label);
  const wholeSkel = skeleton(unicodeDomain(orgDomain(domain)));
  for (const p of protectedDomains) {
    if (orgDomain(p) === orgDomain(domain)) return null;
  }
  for (const p of protectedDomains) {
    const theirs = splitRegistrable(p);
    if (theirs.label === '' || mine.label === '') continue;
    const sameLook = mine.label !== theirs.label && mineSkel === skeleton(theirs.label);
    if (sameLook || wholeSkel === skeleton(unicodeDomain(orgDomain(p)))) {
      return { result: nonAscii ? 'homoglyph' : 'confusable', target: p };
    }
  }
  for (const label of uni.split('.')) if (isMixedScript(label)) return { result: 'mixed-script', target: null };
  if (maxDistance > 0) {
    for (const p of protectedDomains) {
      const theirs = splitRegistrable(p);
      if ([...theirs.label].length < MIN_EDIT_LABEL || mine.label === theirs.label) continue;
      const d = editDistance(mine.label, theirs.label);
      if (d > 0 && d <= maxDistance) return { result: 'edit-distance', target: p };
    }
  }
  return null;
}

export function detectLookalike(facts: MessageFacts, input: DetectInput, ctx: SpoofContext): Finding[] {
  if (originOf(input, ctx) !== 'outside') return [];
  const protectedDomains = [...ctx.localDomains, ...ctx.partnerDomains].filter((d) => d.trim() !== '');
  const maxDistance = Math.max(0, Math.min(3, Math.trunc(ctx.maxEditDistance ?? 1)));
  const candidates: { domain: string; where: 'from' | 'envelope' }[] = fromMailboxes(facts).slice(0, 5).map((m) => ({ domain: m.domain, where: 'from' as const }));
  const env = envelopeDomain(input);
  if (env) candidates.push({ domain: env, where: 'envelope' });
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c.domain)) continue;
    seen.add(c.domain);
    const m = judge(c.domain, protectedDomains, maxDistance);
    if (!m) continue;
    const uni = unicodeDomain(c.domain);
    const ascii = asciiDomain(c.domain);
    const shown = sanitize(uni === ascii ? ascii : `${uni} (${ascii})`);
    const target = m.target ? ` looks like ${sanitize(m.target, 60)}` : ' mixes scripts';
    return [{
      detector: 'lookalike', origin: 'outside', result: m.result, claimed: sanitize(asciiDomain(c.domain)),
      reasons: [{ rule: `lookalike.${c.where}`, detail: `${shown}${target}` }],
    }];
  }
  return [];
}
