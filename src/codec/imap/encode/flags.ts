/** Flag lists in responses: FLAGS, PERMANENTFLAGS, FETCH FLAGS. */
import { isAtomChar } from '../cursor.js';
import { atom, type Atom } from './value.js';

/**
 * Whether a flag can be written on the wire: "\" atom or an atom; "\*" only
 * in PERMANENTFLAGS. Anything else would break the response framing.
 */
export function isValidFlag(flag: string, allowWildcard = false): boolean {
  if (allowWildcard && flag === '\\*') return true;
  const name = flag.startsWith('\\') ? flag.slice(1) : flag;
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) if (!isAtomChar(name.charCodeAt(i))) return false;
  return true;
}

/** "(\Seen $Forwarded)"; flags that cannot be written are left out. */
export function encodeFlags(flags: Iterable<string>, allowWildcard = false): string {
  return `(${[...flags].filter((f) => isValidFlag(f, allowWildcard)).join(' ')})`;
}

/** The same list as a value for the FETCH response builder. */
export function flagsValue(flags: Iterable<string>): Atom[] {
  return [...flags].filter((f) => isValidFlag(f)).map(atom);
}
