/** LIST (RFC 9051, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154) and LSUB. */
import { listResponse, lsubResponse, no, ok, statusDataResponse, type ListEntry } from '../../codec/imap/index.js';
import type { Folder } from '../../store/types.js';
import { ancestors, DELIMITER, MAX_PATTERN_LENGTH, patternMatcher } from '../names.js';
import type { ImapSession } from '../session.js';
import { statusValues } from './status.js';
import type { Cmd } from './types.js';

interface Node {
  readonly name: string;
  /** null for a name that exists only as the parent of others. */
  readonly folder: Folder | null;
  hasChildren: boolean;
  subscribedBelow: boolean;
}

/** Every folder plus the parents implied by their names, INBOX first, then by name. */
function tree(folders: readonly Folder[]): Node[] {
  const nodes = new Map<string, Node>();
  for (const f of folders) nodes.set(f.name, { name: f.name, folder: f, hasChildren: false, subscribedBelow: false });
  for (const f of folders) {
    for (const a of ancestors(f.name)) {
      let n = nodes.get(a);
      if (!n) nodes.set(a, (n = { name: a, folder: null, hasChildren: false, subscribedBelow: false }));
      n.hasChildren = true;
      if (f.subscribed) n.subscribedBelow = true;
    }
  }
  return [...nodes.values()].sort((x, y) => (x.name === 'INBOX' ? -1 : y.name === 'INBOX' ? 1 : x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

function matchers(reference: string, patterns: readonly string[]): Array<(name: string) => boolean> | null {
  const full = patterns.filter((p) => p !== '').map((p) => reference + p);
  if (full.some((p) => p.length > MAX_PATTERN_LENGTH)) return null;
  return full.map(patternMatcher);
}

/** A subscribed folder below `name` that no pattern matches (so only its parent can stand for it). */
function subscribedUnmatchedBelow(folders: readonly Folder[], name: string, match: ReadonlyArray<(name: string) => boolean>): boolean {
  return folders.some((f) => f.subscribed && f.name.startsWith(name + DELIMITER) && !match.some((m) => m(f.name)));
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
  for (const node of tree(folders)) {
    if (!match.some((m) => m(node.name))) continue;
    const f = node.folder;
    let childInfo: string[] | undefined;
    if (onlySubscribed && !f?.subscribed) {
      // RECURSIVEMATCH: a parent that matches shows because a subscribed child does not match itself (RFC 5258 3.5).
      if (!(recursive && node.subscribedBelow && subscribedUnmatchedBelow(folders, node.name, match))) continue;
      childInfo = ['SUBSCRIBED'];
    }
    if (sel.has('SPECIAL-USE') && !f?.specialUse) continue;
    const attributes: string[] = [];
    if (!f) attributes.push(extended ? '\\NonExistent' : '\\Noselect');
    attributes.push(node.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
    if (f?.specialUse) attributes.push(f.specialUse);
    if (showSubscribed && f?.subscribed) attributes.push('\\Subscribed');
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
  const folders = await s.deps.mailboxes.listFolders(s.account!.id);
  const subscribed = new Set(folders.filter((f) => f.subscribed).map((f) => f.name));
  const sent = new Set<string>();
  for (const node of tree(folders)) {
    if (subscribed.has(node.name) && m(node.name)) {
      sent.add(node.name);
      s.send(lsubResponse({ attributes: [], delimiter: DELIMITER, name: node.name }, s.encode));
    } else if (!subscribed.has(node.name) && node.subscribedBelow && m(node.name) && !sent.has(node.name)) {
      // Only when no subscribed name below it matches the pattern itself (a "%" that stops here).
      const below = folders.some((f) => f.subscribed && f.name.startsWith(node.name + DELIMITER) && m(f.name));
      if (!below) s.send(lsubResponse({ attributes: ['\\Noselect'], delimiter: DELIMITER, name: node.name }, s.encode));
    }
  }
  return ok(cmd.tag, 'LSUB completed');
}
