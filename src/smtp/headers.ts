/**
 * The header-section rules at the end of DATA, and the From ownership check
 * for submission. Any line in the header section that is neither a field nor
 * a folded continuation makes the message malformed: where the header ends
 * must not depend on which parser reads it, or a From could be hidden from us
 * and shown to the reader. A message of header fields only (no blank line, no
 * body) is valid RFC 5322 and is accepted.
 */
import { getFields, parseAddressList, parseHeaderSection, type HeaderField, type MailAddress } from '../codec/mime/index.js';
import { normalizeAddress } from '../core/address.js';

export type HeaderCheck = { ok: true; fields: HeaderField[] } | { ok: false; reason: string };

const MALFORMED = new Set(['header-no-colon', 'header-bad-name', 'header-orphan-continuation']);

export function checkHeaderSection(data: Uint8Array): HeaderCheck {
  const h = parseHeaderSection(data);
  if (h.truncated) return { ok: false, reason: 'header-too-large' };
  const bad = h.defects.find((d) => MALFORMED.has(d.code));
  if (bad) return { ok: false, reason: bad.code };
  if (h.fields.length === 0) return { ok: false, reason: 'no-header' };
  return { ok: true, fields: h.fields };
}

/** Text with quoted strings and comments blanked out, so what is left is addresses and separators. */
function outsideQuotesAndComments(s: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && (quoted || depth > 0)) {
      i++;
      out += ' ';
    } else if (quoted) {
      if (c === '"') quoted = false;
      out += ' ';
    } else if (c === '(') {
      depth++;
      out += ' ';
    } else if (c === ')' && depth > 0) {
      depth--;
      out += ' ';
    } else if (depth > 0) out += ' ';
    else if (c === '"') {
      quoted = true;
      out += ' ';
    } else out += c;
  }
  return out;
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
  const loose = outsideQuotesAndComments(value).match(/[^\s<>(),;:]+@[^\s<>(),;:]*/g) ?? [];
  const all = [...parsed, ...loose];
  if (parsed.length === 0) return [value.slice(0, 256) || '(empty)'];
  const bad = all.filter((a) => {
    const n = normalizeAddress(a);
    return n === null || !sendable.has(n);
  });
  return [...new Set(bad.map((a) => a.toLowerCase()))];
}

/**
 * For submission: exactly one From, and every address in From (and in Sender,
 * when present) owned by the account. Returns 'missing' for a From count other
 * than one, else the offending addresses (empty when all are owned).
 */
export function unownedAuthors(fields: readonly HeaderField[], sendable: ReadonlySet<string>): 'missing' | string[] {
  const from = getFields(fields, 'From');
  if (from.length !== 1) return 'missing';
  const sender = getFields(fields, 'Sender');
  return [...from, ...sender].flatMap((f) => unownedInField(f.value, sendable));
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
