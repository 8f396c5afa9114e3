/** CANCELUPDATE (RFC 5267 section 4.2): stop updating the searches started with these tags. */
import type { ImapCommand } from '../ast.js';
import { type Cursor, utf8 } from '../cursor.js';
import { fail } from '../errors.js';

/** More tags than this in one CANCELUPDATE is not a real client. */
const MAX_TAGS = 100;

/** CANCELUPDATE SP tag-string *(SP tag-string), tag-string being a quoted string or literal. */
export function parseCancelUpdate(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const tags = [utf8(c.string(), 'tag')];
  while (c.trySp()) {
    if (tags.length >= MAX_TAGS) fail('Too many tags');
    tags.push(utf8(c.string(), 'tag'));
  }
  c.end();
  return { tag, name: 'CANCELUPDATE', tags };
}
