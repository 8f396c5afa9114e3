/**
 * The plain form of an address list that SEARCH matches besides the field's
 * decoded text: `Name <local@domain>` for each mailbox, comments and spaces
 * between tokens dropped, so "user@domain" finds an address written with
 * comments or folding inside. Every address field of every message searched
 * for the first time is turned into it (on the reader threads), so the
 * commonest ways of writing an address are recognised without the full
 * RFC 5322 parse; anything else takes the parse.
 */
import { parseAddressList, type MailAddress } from '../codec/mime/index.js';

/** atext (RFC 5322 3.2.3). */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
/** atext of a display name that cannot be, or hold, an RFC 2047 encoded word (no `=`, no `?`). */
const NAME_TEXT = "[A-Za-z0-9!#$%&'*+/^_`{|}~-]";
const DOT_ATOM = `${ATEXT}+(?:\\.${ATEXT}+)*`;
/** `Name Words <local@domain>` (words separated by one space each) or `<local@domain>`: its plain form is itself. */
const NAMED = new RegExp(`^(?:(?:${NAME_TEXT}+ )*${NAME_TEXT}+ )?<${DOT_ATOM}@${DOT_ATOM}>$`);
/** `local@domain`: its plain form is `<local@domain>`. */
const BARE = new RegExp(`^${DOT_ATOM}@${DOT_ATOM}$`);
/** Longer values take the parse (the patterns above are linear; this bounds them anyway). */
const MAX_SHORTCUT = 2048;

/** `Name <local@domain>` for each mailbox of an address list (`Name: ...;` for a group), joined by `, `. */
export function plainAddresses(value: string): string {
  return plainShortcut(value) ?? parsedPlain(value);
}

/** The plain form of a list whose mailboxes are all written in one of the two simplest ways (separated by `, `); else null. */
export function plainShortcut(value: string): string | null {
  if (value.length > MAX_SHORTCUT) return null;
  const items = value.split(', ');
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (NAMED.test(item)) continue;
    if (!BARE.test(item)) return null;
    items[i] = `<${item}>`;
  }
  return items.join(', ');
}

/** The plain form through the RFC 5322 parser (encoded words in names decoded). */
export function parsedPlain(value: string): string {
  const one = (a: MailAddress): string => (a.name ? `${a.name} <${a.address}>` : `<${a.address}>`);
  return parseAddressList(value)
    .map((a) => (a.group ? `${a.name}: ${a.group.map(one).join(', ')};` : one(a)))
    .join(', ');
}
