/** SELECT and EXAMINE (with CONDSTORE and QRESYNC, RFC 7162), CLOSE and UNSELECT. */
import {
  bad,
  existsResponse,
  fetchResponse,
  flagsResponse,
  inSequenceSet,
  listResponse,
  no,
  ok,
  recentResponse,
  vanishedResponse,
  type QresyncParams,
} from '../../codec/imap/index.js';
import { findFolder, DELIMITER } from '../names.js';
import { SelectedMailbox, SYSTEM_FLAGS } from '../selected.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

const MAX_UID = 0xffffffff;

export async function select(s: ImapSession, cmd: Cmd<'SELECT' | 'EXAMINE'>): Promise<Buffer> {
  if (s.selected) {
    // Whether or not the new SELECT succeeds, the old mailbox is closed (RFC 9051 6.3.2).
    s.deselect();
    s.send(ok(null, 'Previous mailbox closed', 'CLOSED'));
  }
  if (cmd.qresync && !s.qresync) return bad(cmd.tag, 'QRESYNC is not enabled');
  if (cmd.condstore) s.condstore = true;
  const folder = await findFolder(s, cmd.mailbox);
  if (!folder) return no(cmd.tag, 'No such mailbox', 'NONEXISTENT');
  const readOnly = cmd.name === 'EXAMINE';
  const sel = await SelectedMailbox.open(s.deps.mailboxes, folder, readOnly, s.deps.notifier, () => s.folderChanged(), !s.rev2);
  s.selected = sel;
  s.state = 'selected';
  s.saved = null;
  const v = sel.view;
  const keywords = v.keywords();
  s.send(flagsResponse([...SYSTEM_FLAGS, ...keywords]));
  s.send(existsResponse(v.exists));
  if (!s.rev2) {
    s.send(recentResponse(sel.recentCount ?? 0));
    const unseen = v.firstUnseen();
    if (unseen > 0) s.send(ok(null, `Message ${unseen} is the first unseen`, { code: 'UNSEEN', value: unseen }));
  }
  s.send(ok(null, readOnly ? 'No permanent flags permitted' : 'Flags permitted', { code: 'PERMANENTFLAGS', flags: sel.permanentFlags(keywords) }));
  s.send(ok(null, 'UIDs valid', { code: 'UIDVALIDITY', value: sel.folder.uidValidity }));
  s.send(ok(null, 'Predicted next UID', { code: 'UIDNEXT', value: sel.uidNext(sel.folder.uidNext) }));
  s.send(ok(null, 'Highest', { code: 'HIGHESTMODSEQ', value: v.highestModseq }));
  if (s.rev2) {
    const attributes = folder.specialUse ? [folder.specialUse] : [];
    s.send(listResponse({ attributes, delimiter: DELIMITER, name: folder.name }, s.encode));
  }
  if (cmd.qresync && cmd.qresync.uidValidity === sel.folder.uidValidity) await replay(s, sel, cmd.qresync);
  s.log.debug({ folder: folder.name, exists: v.exists, readOnly }, 'selected');
  return ok(cmd.tag, `${cmd.name} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE');
}

/** QRESYNC: what changed since the client's modseq, as VANISHED (EARLIER) and FETCH responses. */
async function replay(s: ImapSession, sel: SelectedMailbox, q: QresyncParams): Promise<void> {
  const since = q.modseq > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(q.modseq);
  const changes = await s.deps.mailboxes.changesSince(sel.id, since);
  const known = q.knownUids;
  const vanished = known && known.type === 'set' ? changes.expunged.filter((uid) => inSequenceSet(known.ranges, uid, MAX_UID)) : changes.expunged;
  s.send(vanishedResponse(vanished, true));
  for (const m of changes.changed) {
    const seq = sel.view.seqOf(m.uid);
    if (seq !== 0) s.send(fetchResponse(seq, sel.flagItems(seq, true)));
  }
}

export async function close(s: ImapSession, cmd: Cmd<'CLOSE'>): Promise<Buffer> {
  const sel = s.selected!;
  if (!sel.readOnly && (await sel.sync(s.deps.mailboxes, true)) === 'ok') {
    // CLOSE expunges silently: no EXPUNGE responses (RFC 9051 6.4.1).
    const deleted = sel.deletedUids();
    const removed = deleted.length > 0 ? await s.deps.mailboxes.expunge(sel.id, deleted) : [];
    if (removed.length > 0) s.deps.notifier.changed(sel.id);
  }
  s.deselect();
  return ok(cmd.tag, 'CLOSE completed');
}

export async function unselect(s: ImapSession, cmd: Cmd<'UNSELECT'>): Promise<Buffer> {
  s.deselect();
  return ok(cmd.tag, 'UNSELECT completed');
}
