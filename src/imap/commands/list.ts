/** LIST (RFC 9051, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154) and LSUB. */
import { listResponse, lsubResponse, no, ok, statusDataResponse, type ListEntry } from '../../codec/imap/index.js';
import type { Folder } from '../../store/types.js';
import { ancestors, DELIMITER, MAX_PATTERN_LENGTH, patternMatcher } from '../names.js';
import type { ImapSession } from '../session.js';
import { statusValues } from './status.js';
import type { Cmd } from './types.js';

interface Node {
  readonly name: string;
  /** null for a name that exists only as the parent of others, or only as a subscription. */
  readonly folder: Folder | null;
  /** An existing folder below this name. */
  hasChildren: boolean;
  subscribed: boolean;
  subscribedBelow: boolean;
}

/**
 * Every folder plus the parents implied by their names, INBOX first, then by
 * name. With `withSubscriptions`, subscribed names whose folder does not
 * exist (and their parents) are nodes too.
 */
function tree(folders: readonly Folder[], subscribed: ReadonlySet<string>, withSubscriptions: boolean): Node[] {
  const nodes = new Map<string, Node>();
  const node = (name: string): Node => {
    let n = nodes.get(name);
    if (!n) nodes.set(name, (n = { name, folder: null, hasChildren: false, subscribed: subscribed.has(name), subscribedBelow: false }));
    return n;
  };
  for (const f of folders) nodes.set(f.name, { name: f.name, folder: f, hasChildren: false, subscribed: subscribed.has(f.name), subscribedBelow: false });
  for (const f of folders) for (const a of ancestors(f.name)) node(a).hasChildren = true;
  for (const name of subscribed) {
    if (withSubscriptions) node(name);
    for (const a of ancestors(name)) {
      const n = withSubscriptions ? node(a) : nodes.get(a);
      if (n) n.subscribedBelow = true;
    }
  }
  return [...nodes.values()].sort((x, y) => (x.name === 'INBOX' ? -1 : y.name === 'INBOX' ? 1 : x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

function matchers(reference: string, patterns: readonly string[]): Array<(name: string) => boolean> | null {
  const full = patterns.filter((p) => p !== '').map((p) => reference + p);
  if (full.some((p) => p.length > MAX_PATTERN_LENGTH)) return null;
  return full.map(patternMatcher);
}

/** A subscribed name below `name` that no pattern matches (so only its parent can stand for it). */
function subscribedUnmatchedBelow(subscribed: ReadonlySet<string>, name: string, match: ReadonlyArray<(name: string) => boolean>): boolean {
  for (const s of subscribed) if (s.startsWith(name + DELIMITER) && !match.some((m) => m(s))) return true;
  return false;
}

export async function list(s: ImapSession, cmd: Cmd<'LIST'>): Promise<Buffer> {
  const extended = cmd.extended || s.rev2;
  // LIST "" "": the delimiter and root (RFC 9051 6.3.9).
  if (cmd.patterns.includes('')) s.send(listResponse({ attributes: ['\\Noselect'], delimiter: DELIMITER, name: '' }, s.encode));
  const match = matchers(cmd.reference, cmd.patterns);
  if (!match) return no(cmd.tag, 'Pattern too long');
  if (match.length === 0) return ok(cmd.tag, 'LIST completed');
  const sel = new Set(cmd.selectOptions);
  const ret = cmd.returnOptions;
  const onlySubscribed = sel.has('SUBSCRIBED');
  const recursive = sel.has('RECURSIVEMATCH');
  const showSubscribed = onlySubscribed || ret.subscribed;
  const folders = await s.deps.mailboxes.listFolders(s.account!.id);
  const subscribed = showSubscribed ? new Set(await s.deps.mailboxes.listSubscriptions(s.account!.id)) : new Set<string>();
  // LIST (SUBSCRIBED) shows subscribed names whose folder is gone as \NonExistent (RFC 5258 3.1).
  for (const node of tree(folders, subscribed, onlySubscribed)) {
    if (!match.some((m) => m(node.name))) continue;
    const f = node.folder;
    let childInfo: string[] | undefined;
    if (onlySubscribed && !node.subscribed) {
      // RECURSIVEMATCH: a parent that matches shows because a subscribed child does not match itself (RFC 5258 3.5).
      if (!(recursive && node.subscribedBelow && subscribedUnmatchedBelow(subscribed, node.name, match))) continue;
      childInfo = ['SUBSCRIBED'];
    }
    if (sel.has('SPECIAL-USE') && !f?.specialUse) continue;
    const attributes: string[] = [];
    if (!f) attributes.push(extended ? '\\NonExistent' : '\\Noselect');
    // A name that is only a subscription has no children to speak of.
    if (f || node.hasChildren) attributes.push(node.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
    if (f?.specialUse) attributes.push(f.specialUse);
    if (showSubscribed && node.subscribed) attributes.push('\\Subscribed');
    const entry: ListEntry = { attributes, delimiter: DELIMITER, name: node.name, ...(childInfo ? { childInfo } : {}) };
    s.send(listResponse(entry, s.encode));
    if (ret.status && f) s.send(statusDataResponse(f.name, await statusValues(s, f, ret.status), s.encode));
  }
  return ok(cmd.tag, 'LIST completed');
}

/** LSUB (IMAP4rev1): subscribed names, and unsubscribed parents "%" reaches, as \Noselect. */
export async function lsub(s: ImapSession, cmd: Cmd<'LSUB'>): Promise<Buffer> {
  if (cmd.pattern === '') {
    s.send(lsubResponse({ attributes: ['\\Noselect'], delimiter: DELIMITER, name: '' }, s.encode));
    return ok(cmd.tag, 'LSUB completed');
  }
  const match = matchers(cmd.reference, [cmd.pattern]);
  if (!match) return no(cmd.tag, 'Pattern too long');
  const m = match[0]!;
  const subscribed = new Set(await s.deps.mailboxes.listSubscriptions(s.account!.id));
  const sent = new Set<string>();
  // The subscription list alone decides what LSUB shows, whether or not the folders exist.
  for (const node of tree([], subscribed, true)) {
    if (subscribed.has(node.name) && m(node.name)) {
      sent.add(node.name);
      s.send(lsubResponse({ attributes: [], delimiter: DELIMITER, name: node.name }, s.encode));
    } else if (!subscribed.has(node.name) && node.subscribedBelow && m(node.name) && !sent.has(node.name)) {
      // Only when no subscribed name below it matches the pattern itself (a "%" that stops here).
      const below = [...subscribed].some((name) => name.startsWith(node.name + DELIMITER) && m(name));
      if (!below) s.send(lsubResponse({ attributes: ['\\Noselect'], delimiter: DELIMITER, name: node.name }, s.encode));
    }
  }
  return ok(cmd.tag, 'LSUB completed');
}
