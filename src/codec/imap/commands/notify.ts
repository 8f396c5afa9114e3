/**
 * NOTIFY (RFC 5465 section 8): `NOTIFY NONE` or
 * `NOTIFY SET [STATUS] (filter events) ...`. Only the grammar is checked
 * here; which events go together and which are supported is the server's
 * call (BAD or NO [BADEVENT]).
 */
import type { FetchAtt, ImapCommand, NotifyEvent, NotifyEventName, NotifyFilter, NotifyGroup } from '../ast.js';
import type { Cursor } from '../cursor.js';
import { fail } from '../errors.js';
import { fetchAtt } from './fetch.js';

const EVENTS: readonly NotifyEventName[] = [
  'MessageNew', 'MessageExpunge', 'FlagChange', 'AnnotationChange',
  'MailboxName', 'SubscriptionChange', 'MailboxMetadataChange', 'ServerMetadataChange',
];
const EVENT_BY_UPPER = new Map(EVENTS.map((e) => [e.toUpperCase(), e]));

/** one-or-more-mailbox: a mailbox, or a parenthesised non-empty list of them. */
function mailboxes(c: Cursor): string[] {
  if (c.peek() === 0x28) return c.list(() => c.mailbox(), false);
  return [c.mailbox()];
}

function filter(c: Cursor): NotifyFilter {
  const w = c.word('mailbox filter');
  switch (w) {
    case 'SELECTED':
    case 'SELECTED-DELAYED':
    case 'INBOXES':
    case 'PERSONAL':
    case 'SUBSCRIBED':
      return { kind: w };
    case 'SUBTREE':
    case 'MAILBOXES':
      c.sp();
      return { kind: w, mailboxes: mailboxes(c) };
    default:
      return fail(`Unknown NOTIFY mailbox filter ${w.slice(0, 40)}`);
  }
}

function event(c: Cursor): NotifyEvent {
  const w = c.word('event');
  const name = EVENT_BY_UPPER.get(w) ?? w.slice(0, 64);
  let fetch: FetchAtt[] | null = null;
  // MessageNew may carry fetch attributes: "MessageNew (UID FLAGS)".
  if (name === 'MessageNew' && c.peek() === 0x20 && c.peek(1) === 0x28) {
    c.sp();
    fetch = c.list(() => fetchAtt(c), false);
  }
  return { name, fetch };
}

function group(c: Cursor): NotifyGroup {
  c.expect(0x28, '"("');
  c.enter();
  const f = filter(c);
  c.sp();
  const events = c.tryWord('NONE') ? [] : c.list(() => event(c), false);
  c.expect(0x29, '")"');
  c.leave();
  return { filter: f, events };
}

/** NOTIFY SP ("NONE" / "SET" [SP "STATUS"] SP event-group *(SP event-group)). */
export function parseNotify(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const w = c.word('NONE or SET');
  if (w === 'NONE') {
    c.end();
    return { tag, name: 'NOTIFY', status: false, groups: null };
  }
  if (w !== 'SET') return fail('Expected NONE or SET');
  c.sp();
  const status = c.tryWord('STATUS');
  if (status) c.sp();
  const groups = [group(c)];
  while (c.trySp()) groups.push(group(c));
  c.end();
  return { tag, name: 'NOTIFY', status, groups };
}
