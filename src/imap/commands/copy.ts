/** COPY, MOVE (RFC 6851) and their UID forms, answered with COPYUID (UIDPLUS, RFC 4315). */
import { bad, no, ok } from '../../codec/imap/index.js';
import { findFolder } from '../names.js';
import { liveUids, resolveSet } from '../sets.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

/** UIDs sent to the store in one call. */
const BATCH = 5000;

/** Bytes the messages take, for the quota check. */
async function sizeOf(s: ImapSession, folderId: number, uids: number[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < uids.length; i += BATCH) {
    for (const m of await s.deps.mailboxes.getMessages(folderId, uids.slice(i, i + BATCH))) total += m.size;
  }
  return total;
}

export async function copyOrMove(s: ImapSession, cmd: Cmd<'COPY' | 'MOVE'>): Promise<Buffer | null> {
  const sel = s.selected!;
  const move = cmd.name === 'MOVE';
  if (move && sel.readOnly) return no(cmd.tag, 'Mailbox is read-only');
  if (!(await s.updates(false))) return null;
  const r = resolveSet(sel.view, cmd.set, cmd.uid, s.saved);
  if (!r.ok) return bad(cmd.tag, r.message);
  const target = await findFolder(s, cmd.mailbox);
  if (!target) return no(cmd.tag, 'No such mailbox', 'TRYCREATE');
  const uids = liveUids(sel.view, r.ranges);
  if (uids.length === 0) return ok(cmd.tag, `${cmd.name} completed`);

  const account = s.account!;
  // A move within one account changes no usage; a copy adds every byte again.
  if (!move && account.quotaBytes !== null) {
    const used = await s.deps.mailboxes.usage(account.id);
    if (used + (await sizeOf(s, sel.id, uids)) > account.quotaBytes) return no(cmd.tag, 'Quota exceeded', 'OVERQUOTA');
  }
  const repo = s.deps.mailboxes;
  const now = s.deps.clock.now();
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < uids.length; i += BATCH) {
    const batch = uids.slice(i, i + BATCH);
    pairs.push(...(move ? await repo.move(sel.id, batch, target.id, now) : await repo.copy(sel.id, batch, target.id, now)));
  }
  if (pairs.length > 0) s.deps.notifier.changed(target.id);
  const code =
    pairs.length > 0
      ? { code: 'COPYUID' as const, uidValidity: target.uidValidity, source: pairs.map((p) => p[0]), destination: pairs.map((p) => p[1]) }
      : undefined;
  if (!move) return ok(cmd.tag, 'COPY completed', code);
  sel.view.markExpunged(pairs.map((p) => p[0]));
  if (pairs.length > 0) s.deps.notifier.changed(sel.id);
  // RFC 6851 4.3: COPYUID goes in an untagged OK before the expunges.
  if (code) s.send(ok(null, 'Moved', code));
  return ok(cmd.tag, 'MOVE completed');
}
