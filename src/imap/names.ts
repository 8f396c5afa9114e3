/**
 * Mailbox names: what may be created, how INBOX is spelled, and LIST
 * patterns. Names are Unicode strings in the store with "/" as the hierarchy
 * delimiter; INBOX is case-insensitive (RFC 9051 section 5.1).
 */
import type { ImapSession } from './session.js';
import type { Folder } from '../store/types.js';

export const DELIMITER = '/';
const MAX_NAME_LENGTH = 512;
const MAX_NAME_DEPTH = 32;
/** Longer LIST patterns are refused: matching costs name length times pattern length. */
export const MAX_PATTERN_LENGTH = 1024;

/** "inbox", "Inbox/Sub" → "INBOX", "INBOX/Sub". */
export function canonicalName(name: string): string {
  if (name.length >= 5 && name.slice(0, 5).toUpperCase() === 'INBOX' && (name.length === 5 || name[5] === DELIMITER)) {
    return 'INBOX' + name.slice(5);
  }
  return name;
}

/** Why a name cannot be created, or null when it can. */
export function invalidName(name: string): string | null {
  if (name.length === 0) return 'Mailbox name is empty';
  if (name.length > MAX_NAME_LENGTH) return 'Mailbox name is too long';
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f || ch === '*' || ch === '%') return 'Mailbox name contains a character that is not allowed';
  }
  const parts = name.split(DELIMITER);
  if (parts.length > MAX_NAME_DEPTH) return 'Mailbox hierarchy is too deep';
  if (parts.some((p) => p.length === 0)) return 'Mailbox name has an empty hierarchy level';
  return null;
}

/** "a/b/c" → ["a", "a/b"]. */
export function ancestors(name: string): string[] {
  const out: string[] = [];
  let i = name.indexOf(DELIMITER);
  while (i > 0) {
    out.push(name.slice(0, i));
    i = name.indexOf(DELIMITER, i + 1);
  }
  return out;
}

/** The folder of the logged-in account with this (client-given) name, or null. */
export async function findFolder(s: ImapSession, name: string): Promise<Folder | null> {
  return s.deps.mailboxes.getFolder(s.account!.id, canonicalName(name));
}

/**
 * A LIST pattern as a matcher: "*" matches anything, "%" anything but the
 * delimiter. Run as a set of pattern positions (no backtracking), so any
 * pattern costs at most name length × pattern length.
 */
export function patternMatcher(pattern: string): (name: string) => boolean {
  const p = Array.from(canonicalName(pattern)); // code points, as the name is walked
  const n = p.length;
  const closure = (states: Uint8Array): void => {
    for (let i = 0; i < n; i++) if (states[i] && (p[i] === '*' || p[i] === '%')) states[i + 1] = 1;
  };
  return (name) => {
    let states = new Uint8Array(n + 1);
    states[0] = 1;
    closure(states);
    for (const ch of name) {
      const next = new Uint8Array(n + 1);
      let any = false;
      for (let i = 0; i < n; i++) {
        if (!states[i]) continue;
        const c = p[i];
        if (c === '*' || (c === '%' && ch !== DELIMITER)) next[i] = 1;
        else if (c === ch) next[i + 1] = 1;
        else continue;
        any = true;
      }
      if (!any) return false;
      closure(next);
      states = next;
    }
    return states[n] === 1;
  };
}
