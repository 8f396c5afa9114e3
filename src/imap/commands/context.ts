/** CANCELUPDATE (RFC 5267 section 4.2): the named searches are no longer kept up to date. */
import { bad, ok } from '../../codec/imap/index.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

export function cancelUpdate(s: ImapSession, cmd: Cmd<'CANCELUPDATE'>): Promise<Buffer> {
  const contexts = s.selected!.contexts;
  const unknown = cmd.tags.find((t) => !contexts.has(t));
  // All or nothing: a mistyped tag cancels none of them.
  if (unknown !== undefined) return Promise.resolve(bad(cmd.tag, 'No search is being updated under that tag'));
  for (const t of cmd.tags) contexts.delete(t);
  return Promise.resolve(ok(cmd.tag, 'CANCELUPDATE completed'));
}
