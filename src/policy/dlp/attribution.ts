/**
 * Who sent a message and where it goes, as DLP counts it: the sender's groups
 * (the authenticated account on submission, else the envelope sender when it
 * is one of ours; an outside sender has none) and each recipient domain's
 * class (internal, partner, external). The directory is read at most once a
 * minute: groups change rarely and a message must not wait on the store.
 */
import type { MessageEnvelope } from '../pipeline/stage.js';
import type { RulesSpec } from './types.js';

export type DestinationClass = 'internal' | 'partner' | 'external';
const WIDTH: Record<DestinationClass, number> = { internal: 0, partner: 1, external: 2 };

/** What the stage needs from the directory (store.meta.directory fits). */
export interface GroupDirectory {
  listDomains(): Promise<readonly { name: string }[]>;
  listGroups(): Promise<readonly { name: string }[]>;
  listGroupMembers(group: string): Promise<string[]>;
}

export interface DirectorySnapshot {
  readonly localDomains: ReadonlySet<string>;
  /** Lower-cased address → the groups it is a member of. */
  readonly groups: ReadonlyMap<string, readonly string[]>;
}

export interface Attribution {
  /** The local sender the match is attributed to (and notices go to); null when the sender is outside. */
  readonly sender: string | null;
  /** The sender's groups: those the rules file lists first, in its order, then alphabetically. */
  readonly groups: readonly string[];
  /** Distinct recipient domains with their class, in envelope order. */
  readonly destinations: readonly { readonly domain: string; readonly class: DestinationClass }[];
  /** The widest class of any recipient. */
  readonly widest: DestinationClass;
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** The directory, loaded at most once per `maxAgeMs`; a failed reload keeps the last snapshot. */
export function directorySnapshots(dir: GroupDirectory, now: () => number, maxAgeMs = 60_000): () => Promise<DirectorySnapshot> {
  let cached: { at: number; snap: DirectorySnapshot } | null = null;
  let loading: Promise<DirectorySnapshot> | null = null;
  const load = async (): Promise<DirectorySnapshot> => {
    const localDomains = new Set((await dir.listDomains()).map((d) => d.name.toLowerCase()));
    const groups = new Map<string, string[]>();
    for (const g of await dir.listGroups()) {
      for (const m of await dir.listGroupMembers(g.name)) {
        const a = m.toLowerCase();
        groups.set(a, [...(groups.get(a) ?? []), g.name]);
      }
    }
    const snap = { localDomains, groups };
    cached = { at: now(), snap };
    return snap;
  };
  return async () => {
    if (cached && now() - cached.at <= maxAgeMs) return cached.snap;
    loading ??= load().finally(() => (loading = null));
    try {
      return await loading;
    } catch (e) {
      if (cached) return cached.snap;
      throw e;
    }
  };
}

/** Groups the rules file lists come first, in its order; the rest alphabetically. */
export function orderGroups(groups: readonly string[], rules: Pick<RulesSpec, 'groups'>): string[] {
  const listed = Object.keys(rules.groups);
  const rank = (g: string): number => {
    const i = listed.indexOf(g);
    return i < 0 ? listed.length : i;
  };
  return [...new Set(groups)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export function destinationClass(domain: string, localDomains: ReadonlySet<string>, partnerDomains: readonly string[]): DestinationClass {
  const d = domain.toLowerCase();
  if (localDomains.has(d)) return 'internal';
  return partnerDomains.includes(d) ? 'partner' : 'external';
}

/** The local sender of a message: the account that logged in on submission, else a MAIL FROM of a local domain. */
export function localSender(env: MessageEnvelope, localDomains: ReadonlySet<string>): string | null {
  if ((env.listener === 'submission' || env.listener === 'submissions') && env.authUser) return env.authUser.toLowerCase();
  if (env.sender !== '' && localDomains.has(domainOf(env.sender)) && env.listener !== 'mx') return env.sender.toLowerCase();
  return null;
}

export function attribute(env: MessageEnvelope, snap: DirectorySnapshot, rules: Pick<RulesSpec, 'groups' | 'partner_domains'>): Attribution {
  const sender = localSender(env, snap.localDomains);
  const groups = sender ? orderGroups(snap.groups.get(sender) ?? [], rules) : [];
  const seen = new Map<string, DestinationClass>();
  for (const r of env.recipients) {
    const d = domainOf(r);
    if (!seen.has(d)) seen.set(d, destinationClass(d, snap.localDomains, rules.partner_domains));
  }
  const destinations = [...seen].map(([domain, c]) => ({ domain, class: c }));
  const widest = destinations.reduce<DestinationClass>((w, d) => (WIDTH[d.class] > WIDTH[w] ? d.class : w), 'internal');
  return { sender, groups, destinations, widest };
}
