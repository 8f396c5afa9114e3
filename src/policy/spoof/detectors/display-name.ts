/**
 * display-name: an outside message whose From name is one of our people
 * while the address is not theirs ("Jane Doe <jane.doe@freemail.example>"),
 * or whose From name shows one of our addresses that is not the real one
 * ("ceo@example.com" <x@elsewhere.example>).
 */
import { isOwned } from '../domains.js';
import { nameKey } from '../names.js';
import { sanitize } from '../sanitize.js';
import type { DetectInput, Finding, MessageFacts, SpoofContext } from '../types.js';
import { fromMailboxes, lowerAddress, originOf } from './common.js';

const peopleKeys = new WeakMap<SpoofContext['people'], Map<string, Set<string>>>();

/** Name key → the person's addresses (one name may belong to several entries). */
function peopleIndex(people: SpoofContext['people']): Map<string, Set<string>> {
  const cached = peopleKeys.get(people);
  if (cached) return cached;
  const index = new Map<string, Set<string>>();
  for (const p of people) {
    const key = nameKey(p.displayName);
    if (key === '') continue;
    const set = index.get(key) ?? new Set<string>();
    set.add(lowerAddress(p.address));
    index.set(key, set);
  }
  peopleKeys.set(people, index);
  return index;
}

export function detectDisplayName(facts: MessageFacts, input: DetectInput, ctx: SpoofContext): Finding[] {
  if (originOf(input, ctx) !== 'outside') return [];
  const out: Finding[] = [];
  const index = peopleIndex(ctx.people);
  const protectedDomains = [...ctx.localDomains, ...ctx.partnerDomains];
  for (const m of fromMailboxes(facts)) {
    if (isOwned(m.domain, ctx.localDomains)) continue; // own-domain's case
    const addresses = index.get(nameKey(m.name));
    if (addresses && !addresses.has(lowerAddress(m.address))) {
      out.push({
        detector: 'display-name', origin: 'outside', result: 'impersonation', claimed: sanitize(m.name),
        reasons: [{ rule: 'display-name.person', detail: `name "${sanitize(m.name, 40)}" of a local person on ${sanitize(m.address)}` }],
      });
      break;
    }
    const shown = m.nameAddresses.find((a) => a !== lowerAddress(m.address) && isOwned(a.slice(a.lastIndexOf('@') + 1), protectedDomains));
    if (shown) {
      out.push({
        detector: 'display-name', origin: 'outside', result: 'embedded-address', claimed: sanitize(shown),
        reasons: [{ rule: 'display-name.address', detail: `name shows ${sanitize(shown)}, real address ${sanitize(m.address)}` }],
      });
      break;
    }
  }
  return out;
}
