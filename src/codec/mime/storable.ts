/**
 * The one rule for what postern stores as a message, whichever protocol brings
 * it (SMTP DATA, IMAP APPEND):
 *  - no NUL byte anywhere: RFC 5322 text and SMTP DATA exclude it, most of
 *    what reads mail (IMAP FETCH without BINARY, POP3, relays) cannot carry
 *    it, and a message stored with one could not be served or sent on as
 *    it is;
 *  - a header section where every line up to the first empty line is a field
 *    or a folded continuation, with at least one field. Where the header ends
 *    must not depend on which parser reads it, or a From could be hidden from
 *    postern and shown to the reader. A message of header fields only (no
 *    empty line, no body) is valid RFC 5322 and passes.
 * Pure and linear in the message.
 */
import { asBuffer } from './bytes.js';
import { parseHeaderSection } from './header.js';
import type { HeaderField } from './types.js';

export type HeaderRefusal = 'header-too-large' | 'header-no-colon' | 'header-bad-name' | 'header-orphan-continuation' | 'no-header';
export type StorableRefusal = 'nul' | HeaderRefusal;

export type HeaderCheck = { ok: true; fields: HeaderField[] } | { ok: false; reason: HeaderRefusal };
export type StorableCheck = { ok: true; fields: HeaderField[] } | { ok: false; reason: StorableRefusal };

const MALFORMED = new Set<string>(['header-no-colon', 'header-bad-name', 'header-orphan-continuation']);

/** Index of the first NUL byte, or -1. */
export function firstNul(buf: Uint8Array): number {
  return asBuffer(buf).indexOf(0);
}

/** The header-section half of the rule. */
export function checkHeaderSection(data: Uint8Array): HeaderCheck {
  const h = parseHeaderSection(data);
  if (h.truncated) return { ok: false, reason: 'header-too-large' };
  const bad = h.defects.find((d) => MALFORMED.has(d.code));
  if (bad) return { ok: false, reason: bad.code as HeaderRefusal };
  if (h.fields.length === 0) return { ok: false, reason: 'no-header' };
  return { ok: true, fields: h.fields };
}

/** The whole rule: NUL first, then the header section. */
export function checkStorable(data: Uint8Array): StorableCheck {
  if (firstNul(data) >= 0) return { ok: false, reason: 'nul' };
  return checkHeaderSection(data);
}
