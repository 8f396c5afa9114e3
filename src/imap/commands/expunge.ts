/** EXPUNGE and UID EXPUNGE (UIDPLUS, RFC 4315). The EXPUNGE/VANISHED responses follow as updates. */
import { bad, no, ok } from '../../codec/imap/index.js';
import { liveUids, resolveSet } from '../sets.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

export async function expunge(s: ImapSession, cmd: Cmd<'EXPUNGE'>): Promise<Buffer> {
  const sel = s.selected!;
  if (sel.readOnly) return no(cmd.tag, 'Mailbox is read-only');
  // \Deleted as the store has it now, not as this session last heard.
  if ((await sel.sync(s.deps.mailboxes, true)) === 'gone') return no(cmd.tag, 'Mailbox was deleted', 'NONEXISTENT');
  let within: ((uid: number) => boolean) | undefined;
  if (cmd.uid) {
    const r = resolveSet(sel.view, cmd.set, true, s.saved);
    if (!r.ok) return bad(cmd.tag, r.message);
    const set = new Set(liveUids(sel.view, r.ranges));
    within = (uid) => set.has(uid);
  }
  const deleted = sel.deletedUids(within);
  // Nothing flagged \Deleted: no write transaction to open (most EXPUNGEs of a busy client).
  if (deleted.length === 0) return ok(cmd.tag, 'EXPUNGE completed');
  const removed = await s.deps.mailboxes.expunge(sel.id, deleted);
  sel.view.markExpunged(removed);
  if (removed.length > 0) s.deps.notifier.changed(sel.id);
  return ok(cmd.tag, 'EXPUNGE completed');
}
