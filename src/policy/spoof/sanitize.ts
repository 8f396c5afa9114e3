/** Attacker text made safe to show or log: printable, one line, short. */

const MAX_SHOWN = 80;

// C0/C1 controls, bidi overrides and isolates, zero-width characters, line/paragraph separators.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** Removes control and invisible characters and cuts to `max` characters (an ellipsis marks a cut). */
export function sanitize(text: string, max = MAX_SHOWN): string {
  const head = text.length > max * 4 ? text.slice(0, max * 4) : text;
  const clean = head.replace(UNSAFE, '').replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Like sanitize, but ASCII only (for a banner written into a body of unknown charset). */
export function sanitizeAscii(text: string, max = MAX_SHOWN): string {
  return sanitize(text, max).replace(/…/g, '...').replace(/[^\x20-\x7e]/g, '?');
}

// C0 controls (NUL included), DEL, bidi overrides and isolates, zero-width characters. Not C1:
// 8-bit header bytes that are not UTF-8 are read as latin1, which turns honest
// windows-1252 or broken UTF-8 text into C1 characters.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const TRICKS = /[\u0000-\u0008\u000a-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

/** True when a name holds a control, bidi or invisible character (tab excepted). */
export function hasUnsafeChars(text: string): boolean {
  return TRICKS.test(text);
}
