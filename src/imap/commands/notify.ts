/** NOTIFY NONE and NOTIFY SET (RFC 5465 section 3.1). */
import { bad, no, ok } from '../../codec/imap/index.js';
import { resolveSpec, SUPPORTED_EVENTS } from '../notify-spec.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

export async function notify(s: ImapSession, cmd: Cmd<'NOTIFY'>): Promise<Buffer> {
  if (cmd.groups === null) {
    s.notify.none();
    return ok(cmd.tag, 'NOTIFY completed');
  }
  const r = resolveSpec(cmd);
  if (!r.ok) {
    // An event postern does not send: NO [BADEVENT] with the ones it does; a broken combination: BAD.
    return r.badEvent ? no(cmd.tag, r.message, { code: 'BADEVENT', events: SUPPORTED_EVENTS }) : bad(cmd.tag, r.message);
  }
  if (!(await s.notify.set(r.spec, cmd.status))) {
    return no(cmd.tag, `NOTIFY may watch at most ${s.notify.maxMailboxes} mailboxes`, 'LIMIT');
  }
  return ok(cmd.tag, 'NOTIFY completed');
}
