/**
 * A complete IMAP command as the reader hands it over: the text lines (line
 * ends removed) with the literals that followed them. `lines[i]` ends with a
 * literal marker (`{n}`, `{n+}` or `~{n}`) exactly when `literals[i]` exists,
 * so `lines.length === literals.length + 1`.
 */
export interface RawCommand {
  readonly lines: readonly Buffer[];
  readonly literals: readonly Buffer[];
}

/** Builds a RawCommand from one line without literals (tests, pipelined input). */
export function rawFromLine(line: string | Buffer): RawCommand {
  return { lines: [typeof line === 'string' ? Buffer.from(line, 'utf8') : line], literals: [] };
}

const SP = 0x20;

/** RFC 9051 tag: 1*<ASTRING-CHAR except "+">. */
export function isTagChar(b: number): boolean {
  if (b <= 0x20 || b >= 0x7f) return false;
  // atom-specials "(" ")" "{" SP CTL list-wildcards ("%" "*") quoted-specials ('"' "\") ; "+" excluded for tags
  return b !== 0x28 && b !== 0x29 && b !== 0x7b && b !== 0x25 && b !== 0x2a && b !== 0x22 && b !== 0x5c && b !== 0x2b;
}

/**
 * The tag at the start of a line, or null when the line does not start with a
 * valid tag followed by a space or the line end. Used to address BAD replies.
 * For the first bytes of a longer line, pass truncated: a space must follow.
 */
export function tagOf(line: Buffer, truncated = false): string | null {
  let i = 0;
  while (i < line.length && isTagChar(line[i]!)) i++;
  if (i === 0 || i > 256) return null;
  if (i < line.length ? line[i] !== SP : truncated) return null;
  return line.toString('latin1', 0, i);
}

/** The upper-cased command name after the tag; "UID FETCH" style for UID commands. */
export function verbOf(line: Buffer): string | null {
  const tag = tagOf(line);
  if (tag === null) return null;
  const word = (start: number): string => {
    let i = start;
    while (i < line.length && line[i] !== SP && i - start < 32) i++;
    return line.toString('latin1', start, i).toUpperCase();
  };
  const verb = word(tag.length + 1);
  if (verb.length === 0) return null;
  if (verb !== 'UID') return verb;
  const sub = word(tag.length + 5);
  return sub.length > 0 ? `UID ${sub}` : verb;
}
