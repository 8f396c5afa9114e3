/**
 * What a NOTIFY SET asks for (RFC 5465 sections 5 and 6), checked and in the
 * form the session uses: the selected mailbox's events, and the other
 * filters in the order given (the first one that matches a mailbox decides
 * its events).
 */
import type { FetchAtt, ImapCommand, NotifyFilter } from '../codec/imap/index.js';
import { DELIMITER } from './names.js';

/** The events postern sends, in the order BADEVENT lists them. */
export const SUPPORTED_EVENTS = ['MessageNew', 'MessageExpunge', 'FlagChange', 'MailboxName', 'SubscriptionChange'] as const;
export type SupportedEvent = (typeof SUPPORTED_EVENTS)[number];
const SUPPORTED = new Set<string>(SUPPORTED_EVENTS);

export type EventSet = ReadonlySet<SupportedEvent>;

export interface SelectedSpec {
  /** SELECTED-DELAYED: expunges wait for a command that may carry them. */
  readonly delayed: boolean;
  readonly events: EventSet;
  /** MessageNew's fetch attributes (BODY[] made BODY.PEEK[]), null when none. */
  readonly fetch: readonly FetchAtt[] | null;
}

export interface NotifySpec {
  readonly selected: SelectedSpec | null;
  readonly others: ReadonlyArray<{ readonly filter: NotifyFilter; readonly events: EventSet }>;
  /** A SUBSCRIBED filter needs the subscription list to match names. */
  readonly usesSubscriptions: boolean;
}

export type SpecResult = { readonly ok: true; readonly spec: NotifySpec } | { readonly ok: false; readonly badEvent: boolean; readonly message: string };

const refuse = (message: string, badEvent = false): SpecResult => ({ ok: false, badEvent, message });

/**
 * The rules of RFC 5465 5.1-5.3 for the selected mailbox, whose sequence
 * numbers the client must be able to follow: MessageNew comes with
 * MessageExpunge, FlagChange with both. For other mailboxes each event only
 * decides when a STATUS is sent, so any of them may stand alone (as Dovecot,
 * the reference implementation, and its compliance suite have it).
 */
function messageRule(events: EventSet): string | null {
  if (events.has('MessageNew') && !events.has('MessageExpunge')) return 'MessageNew requires MessageExpunge';
  if (events.has('FlagChange') && !(events.has('MessageNew') && events.has('MessageExpunge'))) return 'FlagChange requires MessageNew and MessageExpunge';
  return null;
}

/** RFC822 and RFC822.TEXT would set \Seen on mail nobody read; BODY[] and BINARY[] are taken as their .PEEK forms. */
function peekOnly(atts: readonly FetchAtt[]): FetchAtt[] | string {
  const out: FetchAtt[] = [];
  for (const a of atts) {
    if (a.name === 'RFC822' || a.name === 'RFC822.TEXT') return `${a.name} would set \\Seen; use BODY.PEEK`;
    out.push(a.name === 'BODY[]' || a.name === 'BINARY[]' ? { ...a, peek: true } : a);
  }
  return out;
}

export function resolveSpec(cmd: ImapCommand & { readonly name: 'NOTIFY' }): SpecResult {
  let selected: SelectedSpec | null = null;
  const others: Array<{ filter: NotifyFilter; events: EventSet }> = [];
  for (const g of cmd.groups ?? []) {
    const unsupported = g.events.find((e) => !SUPPORTED.has(e.name));
    if (unsupported) return refuse(`Event ${unsupported.name} is not supported`, true);
    const events = new Set(g.events.map((e) => e.name as SupportedEvent));
    const withFetch = g.events.find((e) => e.fetch !== null);
    const isSelected = g.filter.kind === 'SELECTED' || g.filter.kind === 'SELECTED-DELAYED';
    if (isSelected) {
      const rule = messageRule(events);
      if (rule) return refuse(rule);
      if (selected) return refuse('SELECTED and SELECTED-DELAYED may be given once');
      let fetch: FetchAtt[] | null = null;
      if (withFetch?.fetch) {
        const peek = peekOnly(withFetch.fetch);
        if (typeof peek === 'string') return refuse(peek);
        fetch = peek;
      }
      selected = { delayed: g.filter.kind === 'SELECTED-DELAYED', events, fetch };
    } else {
      if (withFetch) return refuse('MessageNew fetch attributes apply to the selected mailbox only');
      others.push({ filter: g.filter, events });
    }
  }
  return { ok: true, spec: { selected, others, usesSubscriptions: others.some((o) => o.filter.kind === 'SUBSCRIBED') } };
}

function matches(filter: NotifyFilter, name: string, subscribed: ReadonlySet<string>): boolean {
  switch (filter.kind) {
    case 'INBOXES':
      return name === 'INBOX'; // local delivery files into INBOX
    case 'PERSONAL':
      return true; // every folder is the user's own: postern has no shared namespaces
    case 'SUBSCRIBED':
      return subscribed.has(name);
    case 'SUBTREE':
      return filter.mailboxes.some((m) => name === m || name.startsWith(m + DELIMITER));
    case 'MAILBOXES':
      return filter.mailboxes.includes(name);
    default:
      return false;
  }
}

/** The events asked for a mailbox that is not selected, or null when no filter names it. */
export function eventsFor(spec: NotifySpec, name: string, subscribed: ReadonlySet<string>): EventSet | null {
  for (const o of spec.others) if (matches(o.filter, name, subscribed)) return o.events;
  return null;
}

/** Events about a mailbox's messages, which make it watched (and get a STATUS at SET STATUS). */
export const hasMessageEvents = (events: EventSet): boolean => events.has('MessageNew') || events.has('MessageExpunge') || events.has('FlagChange');
