/**
 * ESMTP parameters of MAIL and RCPT (RFC 5321 4.1.2): each must be a
 * well-formed esmtp-param, and each must belong to an extension the session's
 * last EHLO offered (RFC 5321 4.1.1.11: otherwise 555). smtp-server alone
 * takes any word after the path as a parameter and ignores those it does not
 * know, so "RCPT TO:<a@x> <b@y>" would pass with "<b@y>" silently dropped.
 */

/** Which EHLO keyword offers each parameter. */
const MAIL_PARAMS: Readonly<Record<string, string>> = {
  SIZE: 'SIZE', // RFC 1870
  BODY: '8BITMIME', // RFC 6152
  SMTPUTF8: 'SMTPUTF8', // RFC 6531
  RET: 'DSN', // RFC 3461
  ENVID: 'DSN',
  AUTH: 'AUTH', // RFC 4954 5
  REQUIRETLS: 'REQUIRETLS', // RFC 8689
};
const RCPT_PARAMS: Readonly<Record<string, string>> = { NOTIFY: 'DSN', ORCPT: 'DSN' };

// esmtp-keyword and esmtp-value (any CHAR but "=", SP and controls).
const PARAM = /^[A-Za-z0-9][A-Za-z0-9-]*(=[\x21-\x3c\x3e-\x7e]+)?$/;
// The reverse-path or forward-path, as smtp-server reads it: one word in angle brackets.
const PATH = /^<[^<>]*>$/;

export type ParamVerdict = null | { refuse: 'syntax' } | { refuse: 'not-offered'; keyword: string };

/**
 * Checks the parameters after the path of a MAIL FROM or RCPT TO line.
 * `offered` holds the keywords of the session's last EHLO reply (upper-case).
 * Returns null when there is nothing to object to, including a malformed path
 * or verb, which smtp-server answers itself.
 */
export function checkParams(line: string, verb: 'MAIL' | 'RCPT', offered: ReadonlySet<string>): ParamVerdict {
  const colon = line.indexOf(':');
  if (colon < 0) return null;
  const words = line.slice(colon + 1).trim().split(/\s+/);
  if (!PATH.test(words[0] ?? '')) return null;
  const known = verb === 'MAIL' ? MAIL_PARAMS : RCPT_PARAMS;
  let unknown: string | null = null;
  for (const w of words.slice(1)) {
    if (!PARAM.test(w)) return { refuse: 'syntax' };
    const keyword = w.split('=', 1)[0]!.toUpperCase();
    const ext = Object.hasOwn(known, keyword) ? known[keyword]! : null;
    if (ext === 'DSN' && offered.has('DSN') && !dsnValueOk(keyword, w.slice(keyword.length + 1))) return { refuse: 'syntax' };
    // RFC 6531 3.4: SMTPUTF8 takes no value.
    if (keyword === 'SMTPUTF8' && offered.has('SMTPUTF8') && w.includes('=')) return { refuse: 'syntax' };
    if (unknown === null && (ext === null || !offered.has(ext))) unknown = keyword;
  }
  return unknown === null ? null : { refuse: 'not-offered', keyword: unknown };
}

/** Longest ENVID (RFC 3461 4.4: 100 characters, xtext encoded) and ORCPT address (decoded). */
export const MAX_ENVID = 100;
export const MAX_ORCPT = 500;
// xtext (RFC 3461 4): printable ASCII but "+" and "=", or "+" and two upper-case hex digits.
const XTEXT = /^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})+$/;
const NOTIFY = /^(?:NEVER|(?:SUCCESS|FAILURE|DELAY)(?:,(?:SUCCESS|FAILURE|DELAY)){0,2})$/i;

/** RFC 3461 syntax of one DSN parameter's value (without the keyword). */
function dsnValueOk(keyword: string, value: string): boolean {
  switch (keyword) {
    case 'RET':
      return /^(?:FULL|HDRS)$/i.test(value);
    case 'ENVID':
      return value.length <= MAX_ENVID && XTEXT.test(value) && printable(xtextDecode(value), 0x20);
    case 'NOTIFY':
      return NOTIFY.test(value) && new Set(value.toUpperCase().split(',')).size === value.split(',').length;
    case 'ORCPT': {
      const semi = value.indexOf(';');
      if (semi < 1 || !/^[A-Za-z0-9-]+$/.test(value.slice(0, semi))) return false;
      const addr = value.slice(semi + 1);
      if (!XTEXT.test(addr)) return false;
      const decoded = xtextDecode(addr);
      return decoded.length <= MAX_ORCPT && printable(decoded, 0x21);
    }
    default:
      return false;
  }
}

/** Every character in [min, 0x7e]: no controls (and, with min 0x21, no space) in what was xtext. */
function printable(s: string, min: number): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < min || c > 0x7e) return false;
  }
  return true;
}

/** xtext decoded (RFC 3461 4): "+XX" is the character with that hex code. */
export function xtextDecode(s: string): string {
  return s.replace(/\+([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The keywords of an EHLO reply's lines ("SIZE 1048576" -> "SIZE"). */
export function ehloKeywords(lines: readonly string[]): Set<string> {
  return new Set(lines.slice(1).map((l) => l.split(' ', 1)[0]!.toUpperCase()));
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export type EightBitVerdict = null | 'BAD_UTF8' | 'UTF8_SENDER_NOT_ALLOWED' | 'UTF8_RECIPIENT_NOT_ALLOWED';

/**
 * RFC 6531 3.7.4.1: bytes above 0x7F in MAIL or RCPT (a UTF-8 address) only
 * in a transaction whose MAIL carries SMTPUTF8; and they must be UTF-8, which
 * smtp-server would otherwise read with U+FFFD in place of what it cannot
 * decode. `transactionUtf8` is whether the MAIL of this transaction had it.
 * The caller has already checked the parameters (SMTPUTF8 offered, well formed).
 */
export function checkEightBit(command: Buffer, verb: 'MAIL' | 'RCPT', transactionUtf8: boolean): EightBitVerdict {
  if (!command.some((b) => b > 0x7f)) return null;
  let line: string;
  try {
    line = utf8Strict.decode(command);
  } catch {
    return 'BAD_UTF8';
  }
  if (verb === 'RCPT') return transactionUtf8 ? null : 'UTF8_RECIPIENT_NOT_ALLOWED';
  const colon = line.indexOf(':');
  const words = line.slice(colon + 1).trim().split(/\s+/).slice(1);
  return words.some((w) => w.toUpperCase() === 'SMTPUTF8') ? null : 'UTF8_SENDER_NOT_ALLOWED';
}
