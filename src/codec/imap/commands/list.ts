/** LIST (RFC 9051, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154) and LSUB. */
import type { ImapCommand, ListReturnOptions, StatusItem } from '../ast.js';
import { type Cursor, decodeMailboxName, isListChar } from '../cursor.js';
import { fail, ParseFailure } from '../errors.js';
import { statusItems } from './common.js';

const SELECT_OPTIONS = ['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE'];

/**
 * list-mailbox: 1*list-char / string, decoded like a mailbox name. A pattern
 * is not a name: one that is not valid modified UTF-7 (a bare "&" among the
 * atom characters) is taken as written, and matches only what it spells.
 */
function listMailbox(c: Cursor): string {
  const b = c.peek();
  const bytes = b === 0x22 || b === 0x7b ? c.string() : Buffer.from(c.chars(isListChar, 'mailbox pattern'), 'latin1');
  try {
    return decodeMailboxName(bytes, c.utf8Names);
  } catch (e) {
    if (c.utf8Names || !(e instanceof ParseFailure) || e.code !== 'mailbox-name') throw e;
    return bytes.toString('latin1');
  }
}

function returnOptions(c: Cursor): ListReturnOptions {
  let subscribed = false;
  let children = false;
  let specialUse = false;
  let status: StatusItem[] | null = null;
  c.list(() => {
    const w = c.word('return option');
    if (w === 'SUBSCRIBED') subscribed = true;
    else if (w === 'CHILDREN') children = true;
    else if (w === 'SPECIAL-USE') specialUse = true;
    else if (w === 'STATUS') {
      c.sp();
      status = statusItems(c);
    } else fail(`Unknown LIST return option ${w.slice(0, 40)}`);
  });
  return { subscribed, children, specialUse, status };
}

const NO_RETURN: ListReturnOptions = { subscribed: false, children: false, specialUse: false, status: null };

/** LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]. */
export function parseList(c: Cursor, tag: string): ImapCommand {
  c.sp();
  let extended = false;
  const selectOptions: string[] = [];
  if (c.peek() === 0x28) {
    extended = true;
    c.list(() => {
      const w = c.word('selection option');
      if (!SELECT_OPTIONS.includes(w)) fail(`Unknown LIST selection option ${w.slice(0, 40)}`);
      if (!selectOptions.includes(w)) selectOptions.push(w);
    });
    // RFC 5258 3.1: RECURSIVEMATCH needs another option to modify.
    if (selectOptions.includes('RECURSIVEMATCH') && selectOptions.every((o) => o === 'RECURSIVEMATCH' || o === 'REMOTE')) {
      fail('RECURSIVEMATCH requires another selection option');
    }
    c.sp();
  }
  const reference = c.mailbox();
  c.sp();
  let patterns: string[];
  if (c.peek() === 0x28) {
    extended = true;
    patterns = c.list(() => listMailbox(c), false);
  } else {
    patterns = [listMailbox(c)];
  }
  let ret = NO_RETURN;
  if (c.trySp()) {
    if (!c.tryWord('RETURN')) fail('Expected RETURN');
    c.sp();
    extended = true;
    ret = returnOptions(c);
  }
  c.end();
  return { tag, name: 'LIST', extended, selectOptions, reference, patterns, returnOptions: ret };
}

export function parseLsub(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const reference = c.mailbox();
  c.sp();
  const pattern = listMailbox(c);
  c.end();
  return { tag, name: 'LSUB', reference, pattern };
}
