/** CREATE (with USE, RFC 6154), DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE. */
import { no, ok } from '../../codec/imap/index.js';
import { isPosternError } from '../../core/errors.js';
import { ancestors, canonicalName, DELIMITER, findFolder, invalidName } from '../names.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

/** Special uses a real folder can have; \All and \Flagged would be virtual folders. */
const USES = new Map(['\\Archive', '\\Drafts', '\\Junk', '\\Sent', '\\Trash'].map((u) => [u.toLowerCase(), u]));

export async function create(s: ImapSession, cmd: Cmd<'CREATE'>): Promise<Buffer> {
  // A trailing delimiter only says the client means to create children (RFC 9051 6.3.4).
  let name = canonicalName(cmd.mailbox);
  while (name.endsWith(DELIMITER)) name = name.slice(0, -1);
  if (name === 'INBOX') return no(cmd.tag, 'INBOX always exists', 'ALREADYEXISTS');
  const invalid = invalidName(name);
  if (invalid) return no(cmd.tag, invalid, 'CANNOT');
  let use: string | null = null;
  if (cmd.specialUse.length > 0) {
    use = USES.get(cmd.specialUse[0]!.toLowerCase()) ?? null;
    if (cmd.specialUse.length > 1 || use === null) return no(cmd.tag, 'Unsupported special use', 'USEATTR');
  }
  const repo = s.deps.mailboxes;
  const accountId = s.account!.id;
  if (await repo.getFolder(accountId, name)) return no(cmd.tag, 'Mailbox already exists', 'ALREADYEXISTS');
  const now = s.deps.clock.now();
  try {
    // Superior names are created too (RFC 9051 6.3.4), so every level can be selected.
    // Subscriptions are the client's to make (RFC 3501 6.3.6): CREATE neither adds nor removes one.
    for (const parent of ancestors(name)) {
      if (!(await repo.getFolder(accountId, parent))) {
        await repo.createFolder(accountId, parent, null, now);
        s.deps.notifier.accountChanged(accountId, { kind: 'created', name: parent }, s);
      }
    }
    await repo.createFolder(accountId, name, use, now);
  } catch (e) {
    // Two sessions creating the same name at once: one of them loses.
    if (isPosternError(e, 'INVARIANT')) return no(cmd.tag, 'Mailbox already exists', 'ALREADYEXISTS');
    throw e;
  }
  s.deps.notifier.accountChanged(accountId, { kind: 'created', name }, s);
  s.log.info({ folder: name }, 'folder created');
  return ok(cmd.tag, 'CREATE completed');
}

export async function remove(s: ImapSession, cmd: Cmd<'DELETE'>): Promise<Buffer> {
  const name = canonicalName(cmd.mailbox);
  if (name === 'INBOX') return no(cmd.tag, 'INBOX cannot be deleted', 'CANNOT');
  const folder = await findFolder(s, name);
  if (!folder) return no(cmd.tag, 'No such mailbox', 'NONEXISTENT');
  if (s.selected?.id === folder.id) {
    s.deselect();
    s.send(ok(null, 'Mailbox closed', 'CLOSED'));
  }
  await s.deps.mailboxes.deleteFolder(folder.id);
  s.deps.notifier.changed(folder.id);
  s.deps.notifier.recent.forget(folder.id);
  s.deps.notifier.accountChanged(s.account!.id, { kind: 'deleted', name: folder.name }, s);
  s.log.info({ folder: name }, 'folder deleted');
  return ok(cmd.tag, 'DELETE completed');
}

export async function rename(s: ImapSession, cmd: Cmd<'RENAME'>): Promise<Buffer> {
  const from = canonicalName(cmd.from);
  let to = canonicalName(cmd.to);
  while (to.endsWith(DELIMITER)) to = to.slice(0, -1);
  const invalid = invalidName(to);
  if (invalid) return no(cmd.tag, invalid, 'CANNOT');
  if (to === 'INBOX') return no(cmd.tag, 'Mailbox already exists', 'ALREADYEXISTS');
  if (to.startsWith(from + DELIMITER)) return no(cmd.tag, 'A mailbox cannot be moved into itself', 'CANNOT');
  const repo = s.deps.mailboxes;
  const folder = await findFolder(s, from);
  if (!folder) return no(cmd.tag, 'No such mailbox', 'NONEXISTENT');
  if (await repo.getFolder(s.account!.id, to)) return no(cmd.tag, 'Mailbox already exists', 'ALREADYEXISTS');
  // The folders below move with it: each is a rename to the listeners.
  const below = from === 'INBOX' ? [] : (await repo.listFolders(s.account!.id)).filter((f) => f.name.startsWith(from + DELIMITER));
  try {
    await repo.renameFolder(s.account!.id, from, to, s.deps.clock.now());
  } catch (e) {
    if (isPosternError(e, 'INVARIANT')) return no(cmd.tag, 'Mailbox already exists', 'ALREADYEXISTS');
    throw e;
  }
  // Renaming INBOX moved its messages out; sessions that have it open must hear.
  if (from === 'INBOX') s.deps.notifier.changed(folder.id);
  const notifier = s.deps.notifier;
  // INBOX stays where it is (its messages moved to a new folder): to the listeners that is a creation.
  notifier.accountChanged(s.account!.id, from === 'INBOX' ? { kind: 'created', name: to } : { kind: 'renamed', from, to }, s);
  for (const f of below) notifier.accountChanged(s.account!.id, { kind: 'renamed', from: f.name, to: to + f.name.slice(from.length) }, s);
  if (s.selected?.id === folder.id && from !== 'INBOX') s.selected.name = to;
  s.log.info({ from, to }, 'folder renamed');
  return ok(cmd.tag, 'RENAME completed');
}

/**
 * The subscription list is kept apart from folders: DELETE and RENAME leave
 * it alone (a server must not remove a name from it unilaterally, RFC 3501
 * 6.3.6), so SUBSCRIBE takes only existing folders but UNSUBSCRIBE takes any
 * subscribed name, also one whose folder is gone.
 */
export async function subscribe(s: ImapSession, cmd: Cmd<'SUBSCRIBE' | 'UNSUBSCRIBE'>): Promise<Buffer> {
  const repo = s.deps.mailboxes;
  const accountId = s.account!.id;
  const on = cmd.name === 'SUBSCRIBE';
  let name = canonicalName(cmd.mailbox);
  if (on) {
    const folder = await findFolder(s, cmd.mailbox);
    if (!folder) return no(cmd.tag, 'No such mailbox', 'NONEXISTENT');
    name = folder.name;
  } else if (!(await repo.listSubscriptions(accountId)).includes(name)) {
    return no(cmd.tag, 'Not subscribed', 'NONEXISTENT');
  }
  await repo.setSubscription(accountId, name, on);
  s.deps.notifier.accountChanged(accountId, { kind: 'subscription', name, subscribed: on }, s);
  return ok(cmd.tag, `${cmd.name} completed`);
}
