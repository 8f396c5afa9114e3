/**
 * APPEND (with MULTIAPPEND's several messages), answered with APPENDUID
 * (UIDPLUS, RFC 4315). The header cache entry of each message is written as
 * it is stored, so the first SEARCH or FETCH of it need not read it back.
 */
import { bad, no, ok } from '../../codec/imap/index.js';
import { checkStorable, parseMessage, type StorableRefusal } from '../../codec/mime/index.js';
import type { AppendMessage } from '../../codec/imap/index.js';
import { CacheFiller } from '../cache.js';
import { findFolder } from '../names.js';
import { SYSTEM_FLAGS } from '../selected.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

const WHY: Record<StorableRefusal, string> = {
  nul: 'Message contains NUL bytes, which postern does not store',
  'header-too-large': 'Message header section is too large',
  'header-no-colon': 'Message header section is malformed: a line is not a header field',
  'header-bad-name': 'Message header section is malformed: a field name is invalid',
  'header-orphan-continuation': 'Message header section is malformed: it starts with a continuation line',
  'no-header': 'Message has no header fields',
};

/**
 * postern's one storage rule (the one SMTP applies at the end of DATA). RFC
 * 3516 4.4 lets a server that does not store binary content refuse a literal8
 * with NUL with UNKNOWN-CTE; binary content without NUL is stored.
 */
function unstorable(tag: string, m: AppendMessage): Buffer | null {
  const v = checkStorable(m.data);
  if (v.ok) return null;
  return no(tag, WHY[v.reason], v.reason === 'nul' && m.binary ? 'UNKNOWN-CTE' : 'PARSE');
}

export async function append(s: ImapSession, cmd: Cmd<'APPEND'>): Promise<Buffer> {
  const folder = await findFolder(s, cmd.mailbox);
  if (!folder) return no(cmd.tag, 'No such mailbox', 'TRYCREATE');
  const limit = s.deps.limits.maxLiteralSize;
  let total = 0;
  for (const m of cmd.messages) {
    if (m.data.length === 0) return no(cmd.tag, 'Empty message');
    if (m.data.length > limit) return no(cmd.tag, `Message larger than ${limit} octets`, 'TOOBIG');
    if (m.flags.some((f) => f.startsWith('\\') && f !== '\\Recent' && !SYSTEM_FLAGS.includes(f))) return bad(cmd.tag, 'Unknown system flag');
    const refusal = unstorable(cmd.tag, m);
    if (refusal) return refusal;
    total += m.data.length;
  }
  const account = s.account!;
  const repo = s.deps.mailboxes;
  if (account.quotaBytes !== null && (await repo.usage(account.id)) + total > account.quotaBytes) {
    return no(cmd.tag, 'Quota exceeded', 'OVERQUOTA');
  }
  const uids: number[] = [];
  const blobIds: string[] = [];
  try {
    for (const m of cmd.messages) {
      const blob = await s.deps.blobs.put(m.data);
      const internalDate = m.date ? m.date.date.getTime() : s.deps.clock.now();
      const flags = [...new Set(m.flags.filter((f) => f !== '\\Recent'))];
      const stored = await repo.append(folder.id, { blobId: blob.id, size: blob.size, internalDate, flags });
      uids.push(stored.uid);
      blobIds.push(blob.id);
    }
  } catch (e) {
    // MULTIAPPEND is all or nothing: take back what was stored before the failure.
    if (uids.length > 0) await repo.expunge(folder.id, uids).catch(() => undefined);
    throw e;
  } finally {
    if (uids.length > 0) s.deps.notifier.changed(folder.id);
  }
  // Each blob id is the content address of exactly these bytes: what is derived from them describes the stored blob.
  const filler = new CacheFiller(s);
  for (const [i, m] of cmd.messages.entries()) await filler.add(blobIds[i]!, parseMessage(m.data));
  await filler.flush();
  if (s.selected?.id === folder.id) s.selected.dirty = true;
  s.log.debug({ folder: folder.name, uids, bytes: total }, 'appended');
  return ok(cmd.tag, 'APPEND completed', { code: 'APPENDUID', uidValidity: folder.uidValidity, uids });
}
