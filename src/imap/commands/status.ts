/** STATUS (RFC 9051 6.3.11, STATUS=SIZE RFC 8438, HIGHESTMODSEQ RFC 7162) without listing messages. */
import { no, ok, statusDataResponse, type StatusItem } from '../../codec/imap/index.js';
import type { Folder } from '../../store/types.js';
import { findFolder } from '../names.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

const COUNTED = new Set<StatusItem>(['MESSAGES', 'UNSEEN', 'DELETED', 'SIZE']);

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
        out.push([item, 0]); // \Recent is not kept (IMAP4rev2 dropped it)
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
