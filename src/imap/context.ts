/**
 * Searches kept up to date (RFC 5267 section 4, CONTEXT=SEARCH and
 * CONTEXT=SORT): SEARCH or SORT with RETURN (UPDATE) leaves its result with
 * the selected folder, and whenever the folder changed (new messages, flag
 * changes, expunges, this session's or another's) the search is run again and
 * the difference sent as ESEARCH ADDTO and REMOVEFROM. Work is bounded: at
 * most MAX_CONTEXTS per selection, only for folders up to
 * MAX_CONTEXT_MESSAGES, and a search is run again only after a change.
 */
import { contextUpdateResponse, formatUidSet, no, type ContextChange, type SearchKey, type SortCriterion } from '../codec/imap/index.js';
import { sortMessages, sortNeedsHeader } from '../mailbox/sort.js';
import { findMatching } from './commands/search.js';
import { collectFacts } from './facts.js';
import type { SelectedMailbox } from './selected.js';
import type { ImapSession } from './session.js';

/** Updating searches one selection may hold. */
export const MAX_CONTEXTS = 5;
/** Larger folders are not searched again on every change: UPDATE is refused there. */
export const MAX_CONTEXT_MESSAGES = 20_000;

export interface SearchContext {
  readonly tag: string;
  readonly uid: boolean;
  readonly criteria: readonly SearchKey[];
  /** SORT's criteria; null for SEARCH (result in UID order). */
  readonly sort: readonly SortCriterion[] | null;
  /** The result as the client last heard it: UIDs in result order. */
  uids: number[];
}

/** What the searches owe the client: removals before any EXPUNGE (old numbers), additions after EXISTS. */
export interface ContextUpdates {
  readonly removals: Buffer[];
  readonly additions: () => Buffer[];
}

/** The UIDs matching, in result order; messages that cannot be read are left out. */
export async function evaluate(s: ImapSession, criteria: readonly SearchKey[], sort: readonly SortCriterion[] | null): Promise<number[]> {
  const run = await findMatching(s, criteria);
  if (!sort) return run.found.map((f) => f.uid);
  const { facts } = await collectFacts(s, run.found, sortNeedsHeader(sort));
  return sortMessages(facts, sort).map((f) => f.uid);
}

/** Runs every updating search again if the folder changed since they last ran; null when nothing is owed. */
export async function refreshContexts(s: ImapSession, sel: SelectedMailbox): Promise<ContextUpdates | null> {
  if (sel.contexts.size === 0 || !sel.contextsStale()) return null;
  sel.contextsFresh();
  const removals: Buffer[] = [];
  const later: Array<() => Buffer> = [];
  for (const ctx of [...sel.contexts.values()]) {
    const next = await evaluate(s, ctx.criteria, ctx.sort);
    if (sel.contexts.get(ctx.tag) !== ctx) continue; // cancelled meanwhile
    const number = (uid: number): number => (ctx.uid ? uid : sel.view.seqOf(uid));
    removals.push(removeFrom(ctx, new Set(next), number));
    const old = new Set(ctx.uids);
    ctx.uids = next;
    const added: Array<{ position: number; uid: number }> = [];
    next.forEach((uid, i) => {
      if (!old.has(uid)) added.push({ position: i + 1, uid });
    });
    if (added.length > 0) later.push(() => addTo(ctx, added, number));
  }
  return { removals, additions: () => later.map((f) => f()) };
}

/**
 * REMOVEFROM for the messages gone from the result. SEARCH: one pair, at the
 * first one's position; SORT: one pair per message, last position first, so
 * each position holds while the client applies them in order.
 */
function removeFrom(ctx: SearchContext, next: ReadonlySet<number>, number: (uid: number) => number): Buffer {
  const gone: Array<{ position: number; uid: number }> = [];
  ctx.uids.forEach((uid, i) => {
    if (!next.has(uid)) gone.push({ position: i + 1, uid });
  });
  if (gone.length === 0) return Buffer.alloc(0);
  const changes: ContextChange[] = ctx.sort
    ? gone.reverse().map((g) => ({ position: g.position, set: String(number(g.uid)) }))
    : [{ position: gone[0]!.position, set: formatUidSet(gone.map((g) => number(g.uid))) }];
  return contextUpdateResponse(ctx.tag, ctx.uid, 'REMOVEFROM', changes);
}

/** ADDTO: SEARCH at position 0 (its order is the numbers' own); SORT at each message's place, first to last. */
function addTo(ctx: SearchContext, added: ReadonlyArray<{ position: number; uid: number }>, number: (uid: number) => number): Buffer {
  const changes: ContextChange[] = ctx.sort
    ? added.map((a) => ({ position: a.position, set: String(number(a.uid)) }))
    : [{ position: 0, set: formatUidSet(added.map((a) => number(a.uid))) }];
  return contextUpdateResponse(ctx.tag, ctx.uid, 'ADDTO', changes);
}

/** Why RETURN (UPDATE) cannot be honoured here, as the tagged NO; null when it can. */
export function refuseUpdate(s: ImapSession, tag: string): Buffer | null {
  const sel = s.selected!;
  if (sel.contexts.size >= MAX_CONTEXTS && !sel.contexts.has(tag)) return no(tag, `At most ${MAX_CONTEXTS} searches can be kept up to date`, 'LIMIT');
  if (sel.view.exists > MAX_CONTEXT_MESSAGES) return no(tag, 'Mailbox too large to keep a search up to date', 'LIMIT');
  return null;
}

/** Keeps a search's result up to date from now on; its result was just sent, so the view is its baseline. */
export function keepUpdated(sel: SelectedMailbox, ctx: SearchContext): void {
  sel.contexts.set(ctx.tag, ctx);
  sel.contextsFresh();
}
