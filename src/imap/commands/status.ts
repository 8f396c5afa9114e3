/** STATUS (RFC 9051 6.3.11, STATUS=SIZE RFC 8438, HIGHESTMODSEQ RFC 7162) without listing messages. */
import { no, ok, statusDataResponse, type StatusItem } from '../../codec/imap/index.js';
import type { Folder } from '../../store/types.js';
import { findFolder } from '../names.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

const COUNTED = new Set<StatusItem>(['MESSAGES', 'UNSEEN', 'DELETED', 'SIZE']);

/** Messages nobody has claimed as \Recent yet (none under IMAP4rev2, which dropped it); counting claims nothing. */
async function recentCount(s: ImapSession, folder: Folder): Promise<number> {
  if (s.rev2) return 0;
  // The session that selected the folder holds its recent messages; one that examined it holds none.
  if (s.selected?.id === folder.id && !s.selected.readOnly && s.selected.recentCount !== null) return s.selected.recentCount;
  const claims = s.deps.notifier.recent;
  if (!claims.mayHaveUnclaimed(folder.id, folder.uidNext)) return 0;
  const { uids } = await s.deps.mailboxes.listIndex(folder.id);
  return claims.unclaimed(folder.id, uids).length;
}

/** The values of the items, in the order asked. */
export async function statusValues(s: ImapSession, folder: Folder, items: readonly StatusItem[]): Promise<Array<[StatusItem, number]>> {
  const stats = items.some((i) => COUNTED.has(i)) ? await s.deps.mailboxes.folderStats(folder.id) : null;
  const out: Array<[StatusItem, number]> = [];
  for (const item of new Set(items)) {
    switch (item) {
      case 'MESSAGES':
        out.push([item, stats!.messages]);
        break;
      case 'UNSEEN':
        out.push([item, stats!.unseen]);
        break;
      case 'DELETED':
        out.push([item, stats!.deleted]);
        break;
      case 'SIZE':
        out.push([item, stats!.size]);
        break;
      case 'UIDNEXT':
        out.push([item, folder.uidNext]);
        break;
      case 'UIDVALIDITY':
        out.push([item, folder.uidValidity]);
        break;
      case 'HIGHESTMODSEQ':
        out.push([item, folder.highestModseq]);
        break;
      case 'RECENT':
        out.push([item, await recentCount(s, folder)]);
        break;
    }
  }
  return out;
}

export async function status(s: ImapSession, cmd: Cmd<'STATUS'>): Promise<Buffer> {
  const folder = await findFolder(s, cmd.mailbox);
  if (!folder) return no(cmd.tag, 'No such mailbox', 'NONEXISTENT');
  if (cmd.items.includes('HIGHESTMODSEQ')) s.condstore = true;
  s.send(statusDataResponse(folder.name, await statusValues(s, folder, cmd.items), s.encode));
  return ok(cmd.tag, 'STATUS completed');
}
