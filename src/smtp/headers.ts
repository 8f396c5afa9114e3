/**
 * The From ownership check for submission. The header-section rule itself is
 * postern's one storage rule (`checkHeaderSection` in codec/mime, which IMAP
 * APPEND applies too); it is re-exported here for the DATA path.
 */
import { getFields, parseAddressList, type HeaderField, type MailAddress } from '../codec/mime/index.js';
import { normalizeAddress } from '../core/address.js';

export { checkHeaderSection, type HeaderCheck } from '../codec/mime/index.js';

/**
 * Text with each quoted string and comment replaced by one space, so what is
 * left is addresses and separators. Built from slices of the input rather
 * than one character at a time, which costs far more on long values.
 */
function outsideQuotesAndComments(s: string): string {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let runStart = 0; // start of the current stretch outside quotes and comments
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quoted || depth > 0) {
      if (c === BACKSLASH) i++;
      else if (quoted && c === QUOTE) quoted = false;
      else if (!quoted && c === OPEN) depth++;
      else if (!quoted && c === CLOSE) depth--;
      if (!quoted && depth === 0) runStart = i + 1;
    } else if (c === OPEN || c === QUOTE) {
      out.push(s.slice(runStart, i), ' ');
      if (c === OPEN) depth = 1;
      else quoted = true;
    }
  }
  if (!quoted && depth === 0) out.push(s.slice(runStart));
  return out.join('');
}

const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const OPEN = 0x28;
const CLOSE = 0x29;

/**
 * Every run of characters other than white space and `<>(),;:` that holds an
 * "@" after its first character. Splitting first keeps this linear: the regex
 * it replaces, /[^\s<>(),;:]+@[^\s<>(),;:]* /g, backtracked over each
 * start position of a long run without "@" (quadratic).
 */
export function looseAddresses(s: string): string[] {
  return s.split(/[\s<>(),;:]+/).filter((w) => w.indexOf('@', 1) > 0);
}

const flatten = (list: MailAddress[]): MailAddress[] => list.flatMap((a) => (a.group ? a.group : [a]));

/**
 * The addresses in an author field that the account does not own. Two readings
 * must both agree: the RFC 5322 parse, and every bare "x@y" in the value
 * outside quotes and comments (so trailing junk a lenient parser drops is
 * still seen). An author field naming nobody counts as unowned.
 */
export function unownedInField(value: string, sendable: ReadonlySet<string>): string[] {
  const parsed = flatten(parseAddressList(value)).map((a) => a.address);
  const loose = looseAddresses(outsideQuotesAndComments(value));
  const all = [...parsed, ...loose];
  if (parsed.length === 0) return [value.slice(0, 256) || '(empty)'];
  const bad = all.filter((a) => {
    const n = normalizeAddress(a);
    return n === null || !sendable.has(n);
  });
  return [...new Set(bad.map((a) => a.toLowerCase()))];
}

/**
 * Longest From or Sender value read for ownership. A thousand addresses fit;
 * the parse of a longer one would only cost event-loop time for nothing a
 * real sender needs.
 */
export const MAX_AUTHOR_FIELD = 64 * 1024;

/**
 * For submission: exactly one From, and every address in From (and in Sender,
 * when present) owned by the account. Returns 'missing' for a From count other
 * than one, 'too-long' for a value over MAX_AUTHOR_FIELD, else the offending
 * addresses (empty when all are owned).
 */
export function unownedAuthors(fields: readonly HeaderField[], sendable: ReadonlySet<string>): 'missing' | 'too-long' | string[] {
  const from = getFields(fields, 'From');
  if (from.length !== 1) return 'missing';
  const authors = [...from, ...getFields(fields, 'Sender')];
  if (authors.some((f) => f.value.length > MAX_AUTHOR_FIELD)) return 'too-long';
  return authors.flatMap((f) => unownedInField(f.value, sendable));
}

/**
 * RFC 8689 3: "TLS-Required: No" asks relays to deliver even where TLS policy
 * would refuse. It loosens security, so it counts only when every
 * TLS-Required field says exactly "No" (case-insensitive, as ABNF literals are);
 * any other value leaves the default policy in force.
 */
export function tlsRequiredNoAsked(fields: readonly HeaderField[]): boolean {
  const found = getFields(fields, 'TLS-Required');
  return found.length > 0 && found.every((f) => f.value.trim().toLowerCase() === 'no');
}
