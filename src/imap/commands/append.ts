/** APPEND (with MULTIAPPEND's several messages), answered with APPENDUID (UIDPLUS, RFC 4315). */
import { bad, no, ok } from '../../codec/imap/index.js';
import { findFolder } from '../names.js';
import { SYSTEM_FLAGS } from '../selected.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

export async function append(s: ImapSession, cmd: Cmd<'APPEND'>): Promise<Buffer> {
  const folder = await findFolder(s, cmd.mailbox);
  if (!folder) return no(cmd.tag, 'No such mailbox', 'TRYCREATE');
  const limit = s.deps.limits.maxLiteralSize;
  let total = 0;
  for (const m of cmd.messages) {
    if (m.data.length === 0) return no(cmd.tag, 'Empty message');
    if (m.data.length > limit) return no(cmd.tag, `Message larger than ${limit} octets`, 'TOOBIG');
    if (m.flags.some((f) => f.startsWith('\\') && f !== '\\Recent' && !SYSTEM_FLAGS.includes(f))) return bad(cmd.tag, 'Unknown system flag');
    total += m.data.length;
  }
  const account = s.account!;
  const repo = s.deps.mailboxes;
  if (account.quotaBytes !== null && (await repo.usage(account.id)) + total > account.quotaBytes) {
    return no(cmd.tag, 'Quota exceeded', 'OVERQUOTA');
  }
  const uids: number[] = [];
  try {
    for (const m of cmd.messages) {
      const blob = await s.deps.blobs.put(m.data);
      const internalDate = m.date ? m.date.date.getTime() : s.deps.clock.now();
      const flags = [...new Set(m.flags.filter((f) => f !== '\\Recent'))];
      const stored = await repo.append(folder.id, { blobId: blob.id, size: blob.size, internalDate, flags });
      uids.push(stored.uid);
    }
  } catch (e) {
    // MULTIAPPEND is all or nothing: take back what was stored before the failure.
    if (uids.length > 0) await repo.expunge(folder.id, uids).catch(() => undefined);
    throw e;
  } finally {
    if (uids.length > 0) s.deps.notifier.changed(folder.id);
  }
  if (s.selected?.id === folder.id) s.selected.dirty = true;
  s.log.debug({ folder: folder.name, uids, bytes: total }, 'appended');
  return ok(cmd.tag, 'APPEND completed', { code: 'APPENDUID', uidValidity: folder.uidValidity, uids });
}
