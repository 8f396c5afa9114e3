/**
 * The base subject of RFC 5256 section 2.1, which SORT SUBJECT and THREAD
 * compare: "Re: [list] Fwd: Hello (fwd)" and "hello" share one. The input is
 * the Subject field with its encoded-words already decoded; it is cut to
 * MAX_SUBJECT characters first, because the steps rescan blob prefixes and a
 * hostile subject of many "[x]" blobs would otherwise cost quadratic time.
 */

/** Characters of a decoded subject that take part (longer ones are cut before extraction). */
export const MAX_SUBJECT = 2048;

export interface BaseSubject {
  /** The base subject, case as written (compare it through subjectKey). */
  readonly base: string;
  /** Whether extraction removed a "Re:"/"Fwd:" leader, a "(fwd)" trailer or a "[fwd: ...]" wrapper. */
  readonly isReplyOrForward: boolean;
}

const SP = 0x20;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

const lower = (s: string, i: number): number => s.charCodeAt(i) | 0x20;

/** Step 1: tabs and line breaks become spaces, and runs of spaces one space. */
function normalise(subject: string): string {
  const cut = subject.length > MAX_SUBJECT ? subject.slice(0, MAX_SUBJECT) : subject;
  return cut.replace(/[\t\r\n ]+/g, ' ');
}

/** End of a subj-blob ("[" *BLOBCHAR "]" *WSP) starting at i, or -1. */
function blobEnd(s: string, i: number, end: number): number {
  if (i >= end || s.charCodeAt(i) !== LBRACKET) return -1;
  let j = i + 1;
  while (j < end && s.charCodeAt(j) !== LBRACKET && s.charCodeAt(j) !== RBRACKET) j++;
  if (j >= end || s.charCodeAt(j) !== RBRACKET) return -1;
  j++;
  while (j < end && s.charCodeAt(j) === SP) j++;
  return j;
}

/** End of a subj-leader "*subj-blob subj-refwd" starting at i ("re"/"fw"/"fwd", *WSP, [subj-blob], ":"), or -1. */
function refwdLeaderEnd(s: string, i: number, end: number): number {
  let j = i;
  for (let b = blobEnd(s, j, end); b >= 0; b = blobEnd(s, j, end)) j = b;
  if (j + 1 < end && lower(s, j) === 0x72 && lower(s, j + 1) === 0x65) j += 2; // re
  else if (j + 1 < end && lower(s, j) === 0x66 && lower(s, j + 1) === 0x77) {
    j += 2; // fw
    if (j < end && lower(s, j) === 0x64) j++; // fwd
  } else return -1;
  while (j < end && s.charCodeAt(j) === SP) j++;
  const b = blobEnd(s, j, end);
  if (b >= 0) j = b;
  return j < end && s.charCodeAt(j) === 0x3a ? j + 1 : -1;
}

/** Extracts the base subject of a decoded Subject value (RFC 5256 section 2.1). */
export function baseSubject(subject: string): BaseSubject {
  const s = normalise(subject);
  let start = 0;
  let end = s.length;
  let isReplyOrForward = false;
  for (;;) {
    // Step 2: trailing "(fwd)" and white space.
    for (;;) {
      if (end > start && s.charCodeAt(end - 1) === SP) end--;
      else if (end - start >= 5 && s.slice(end - 5, end).toLowerCase() === '(fwd)') {
        end -= 5;
        isReplyOrForward = true;
      } else break;
    }
    // Steps 3 to 5: leaders, then a blob that does not make up the whole rest.
    for (let changed = true; changed; ) {
      changed = false;
      for (;;) {
        if (start < end && s.charCodeAt(start) === SP) start++;
        else {
          const l = refwdLeaderEnd(s, start, end);
          if (l < 0) break;
          start = l;
          isReplyOrForward = true;
        }
        changed = true;
      }
      const b = blobEnd(s, start, end);
      if (b >= 0 && b < end) {
        start = b;
        changed = true;
      }
    }
    // Step 6: "[fwd: ...]" around all of it.
    if (end - start >= 6 && s.slice(start, start + 5).toLowerCase() === '[fwd:' && s.charCodeAt(end - 1) === RBRACKET) {
      start += 5;
      end -= 1;
      isReplyOrForward = true;
      continue;
    }
    return { base: s.slice(start, end), isReplyOrForward };
  }
}

/**
 * The form compared for i;unicode-casemap (RFC 5051): upper-cased (titlecase
 * differs only for a few digraphs) and decomposed, so "café" written either
 * way and in either case compares equal.
 */
export function casemap(text: string): string {
  return text.toUpperCase().normalize('NFKD');
}

/** Orders strings by Unicode code point (as their UTF-8 octets would), not by UTF-16 unit. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800-DFFF) stand for code points above U+FFFF: move them above U+E000-FFFF.
    x = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    y = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return x - y;
  }
  return a.length - b.length;
}
