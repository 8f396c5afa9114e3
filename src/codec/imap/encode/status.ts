/** Status responses (OK/NO/BAD/PREAUTH/BYE) with response codes, and continuation requests. */
import { formatUidList, formatUidSet } from '../seqset.js';
import { isTagChar } from '../raw.js';
import { encodeFlags } from './flags.js';

export type SimpleResponseCode =
  | 'ALERT' | 'PARSE' | 'READ-ONLY' | 'READ-WRITE' | 'TRYCREATE' | 'UIDNOTSTICKY' | 'LIMIT' | 'OVERQUOTA' | 'TOOBIG'
  | 'NOMODSEQ' | 'CLOSED' | 'EXPUNGEISSUED' | 'CANNOT' | 'SERVERBUG' | 'CLIENTBUG' | 'UNAVAILABLE'
  | 'AUTHENTICATIONFAILED' | 'AUTHORIZATIONFAILED' | 'EXPIRED' | 'PRIVACYREQUIRED' | 'CONTACTADMIN'
  | 'NOPERM' | 'INUSE' | 'ALREADYEXISTS' | 'NONEXISTENT' | 'CORRUPTION' | 'HASCHILDREN' | 'UNKNOWN-CTE'
  | 'NOTSAVED' | 'BADCHARSET' | 'USEATTR' | 'NOTIFICATIONOVERFLOW';

export type ResponseCode =
  | SimpleResponseCode
  | { readonly code: 'CAPABILITY'; readonly capabilities: readonly string[] }
  | { readonly code: 'UIDVALIDITY' | 'UIDNEXT' | 'UNSEEN'; readonly value: number }
  | { readonly code: 'HIGHESTMODSEQ'; readonly value: bigint | number }
  | { readonly code: 'PERMANENTFLAGS'; readonly flags: readonly string[] }
  | { readonly code: 'BADCHARSET'; readonly charsets: readonly string[] }
  /** One UID, or several after MULTIAPPEND (RFC 4315). */
  | { readonly code: 'APPENDUID'; readonly uidValidity: number; readonly uids: readonly number[] }
  /** source[i] was copied to destination[i]. */
  | { readonly code: 'COPYUID'; readonly uidValidity: number; readonly source: readonly number[]; readonly destination: readonly number[] }
  /** RFC 7162: messages that failed UNCHANGEDSINCE. */
  | { readonly code: 'MODIFIED'; readonly set: readonly number[] }
  /** RFC 4469: a CATENATE URL that could not be resolved. */
  | { readonly code: 'BADURL'; readonly url: string }
  /** RFC 5465: an event the server does not support, with the ones it does. */
  | { readonly code: 'BADEVENT'; readonly events: readonly string[] };

export type StatusKind = 'OK' | 'NO' | 'BAD' | 'PREAUTH' | 'BYE';

const ATOMISH = /^[!#-'+-Z^-z|~]+$/;

/** Keeps response text to one line of printable text. */
function cleanText(text: string, fallback: string): string {
  const t = text.replace(/[\r\n\0]+/g, ' ').trim();
  return t.length > 0 ? t : fallback;
}

export function formatResponseCode(code: ResponseCode): string {
  if (typeof code === 'string') return code;
  switch (code.code) {
    case 'CAPABILITY':
      return ['CAPABILITY', ...code.capabilities.filter((c) => ATOMISH.test(c))].join(' ');
    case 'UIDVALIDITY':
    case 'UIDNEXT':
    case 'UNSEEN':
      return `${code.code} ${code.value}`;
    case 'HIGHESTMODSEQ':
      return `HIGHESTMODSEQ ${code.value}`;
    case 'PERMANENTFLAGS':
      return `PERMANENTFLAGS ${encodeFlags(code.flags, true)}`;
    case 'BADCHARSET':
      return code.charsets.length > 0 ? `BADCHARSET (${code.charsets.filter((c) => ATOMISH.test(c)).join(' ')})` : 'BADCHARSET';
    case 'APPENDUID':
      return `APPENDUID ${code.uidValidity} ${formatUidList(code.uids)}`;
    case 'COPYUID':
      return `COPYUID ${code.uidValidity} ${formatUidList(code.source)} ${formatUidList(code.destination)}`;
    case 'MODIFIED':
      return `MODIFIED ${formatUidSet(code.set)}`;
    case 'BADURL': {
      // url-resp-text: no "]", no line breaks, no NUL (RFC 4469 6).
      const url = code.url.replace(/[\]\r\n\0]/g, '');
      return url.length > 0 ? `BADURL ${url}` : 'BADURL';
    }
    case 'BADEVENT':
      return `BADEVENT (${code.events.filter((e) => ATOMISH.test(e)).join(' ')})`;
  }
}

const FALLBACK: Record<StatusKind, string> = { OK: 'Completed', NO: 'Failed', BAD: 'Error', PREAUTH: 'Logged in', BYE: 'Closing' };

/**
 * "tag OK [CODE] text\r\n"; tag null (or "*") gives an untagged response.
 * A tag that is not a valid IMAP tag is replaced by "*".
 */
export function statusResponse(tag: string | null, kind: StatusKind, text: string, code?: ResponseCode): Buffer {
  const t = tag !== null && tag.length > 0 && [...Buffer.from(tag, 'latin1')].every(isTagChar) ? tag : '*';
  const c = code === undefined ? '' : `[${formatResponseCode(code)}] `;
  return Buffer.from(`${t} ${kind} ${c}${cleanText(text, FALLBACK[kind])}\r\n`, 'utf8');
}

export const ok = (tag: string | null, text: string, code?: ResponseCode): Buffer => statusResponse(tag, 'OK', text, code);
export const no = (tag: string | null, text: string, code?: ResponseCode): Buffer => statusResponse(tag, 'NO', text, code);
export const bad = (tag: string | null, text: string, code?: ResponseCode): Buffer => statusResponse(tag, 'BAD', text, code);
export const bye = (text: string, code?: ResponseCode): Buffer => statusResponse(null, 'BYE', text, code);

/** "+ text\r\n", or "+ \r\n" for an empty SASL challenge. Text is a base64 challenge or human text. */
export function continuation(text = ''): Buffer {
  return Buffer.from(`+ ${text.replace(/[\r\n\0]+/g, ' ')}\r\n`, 'utf8');
}
