/** SEARCH and UID SEARCH (RFC 3501/9051, ESEARCH RETURN options RFC 4731, SEARCHRES RFC 5182, MODSEQ RFC 7162). */
import type { ImapCommand, PartialRange, SearchDateKey, SearchFlagKey, SearchKey, SearchReturnOption, SearchStringKey } from '../ast.js';
import { type Cursor, isDigit, utf8 } from '../cursor.js';
import { fail } from '../errors.js';
import { charset as readCharset, flag, searchDate, sequenceSet } from './common.js';
import { returnOptions as readReturn } from './partial.js';

const FLAG_KEYS = new Set<string>([
  'ALL', 'ANSWERED', 'DELETED', 'DRAFT', 'FLAGGED', 'NEW', 'OLD', 'RECENT', 'SEEN',
  'UNANSWERED', 'UNDELETED', 'UNDRAFT', 'UNFLAGGED', 'UNSEEN',
]);
const STRING_KEYS = new Set<string>(['BCC', 'BODY', 'CC', 'FROM', 'SUBJECT', 'TEXT', 'TO']);
const DATE_KEYS = new Set<string>(['BEFORE', 'ON', 'SINCE', 'SENTBEFORE', 'SENTON', 'SENTSINCE']);
const ARG_KEYS = new Set<string>(['KEYWORD', 'UNKEYWORD', 'HEADER', 'LARGER', 'SMALLER', 'UID', 'NOT', 'OR', 'MODSEQ']);
const RETURN_OPTIONS = new Set<string>(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE', 'UPDATE']);

/** How search strings become text: UTF-8 for UTF-8/US-ASCII; bytes kept one per char (latin1) otherwise. */
type Decode = (b: Buffer) => string;

function decoderFor(charset: string | null): Decode {
  if (charset === null || charset === 'UTF-8' || charset === 'US-ASCII') return (b) => utf8(b, 'search string');
  return (b) => b.toString('latin1');
}

/** number64 as a JS number; sizes beyond 2^53 are clamped (no message is that large). */
function size(c: Cursor): number {
  const n = c.number64();
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

function modseqKey(c: Cursor): SearchKey {
  let entry: { name: string; type: 'priv' | 'shared' | 'all' } | null = null;
  if (c.peek() === 0x22) {
    const name = utf8(c.quoted(), 'entry name');
    c.sp();
    const type = c.word('entry type').toLowerCase();
    if (type !== 'priv' && type !== 'shared' && type !== 'all') fail('Invalid MODSEQ entry type');
    entry = { name, type };
    c.sp();
  }
  return { key: 'MODSEQ', modseq: c.number64(), entry };
}

function searchKey(c: Cursor, decode: Decode): SearchKey {
  const b = c.peek();
  if (b === 0x28) return { key: 'AND', operands: c.list(() => searchKey(c, decode), false) };
  if (isDigit(b) || b === 0x2a || b === 0x24) return { key: 'SEQ', set: sequenceSet(c) };
  const k = c.word('search key');
  if (FLAG_KEYS.has(k)) return { key: k as SearchFlagKey };
  if (!STRING_KEYS.has(k) && !DATE_KEYS.has(k) && !ARG_KEYS.has(k)) fail(`Unknown search key ${k.slice(0, 40)}`);
  c.sp();
  if (STRING_KEYS.has(k)) return { key: k as SearchStringKey, value: decode(c.astring()) };
  if (DATE_KEYS.has(k)) return { key: k as SearchDateKey, date: searchDate(c) };
  switch (k) {
    case 'KEYWORD':
    case 'UNKEYWORD':
      return { key: k, flag: flag(c) };
    case 'HEADER': {
      const field = utf8(c.astring(), 'header field name');
      c.sp();
      return { key: 'HEADER', field, value: decode(c.astring()) };
    }
    case 'LARGER':
    case 'SMALLER':
      return { key: k, size: size(c) };
    case 'UID':
      return { key: 'UID', set: sequenceSet(c) };
    case 'NOT': {
      c.enter();
      const operand = searchKey(c, decode);
      c.leave();
      return { key: 'NOT', operand };
    }
    case 'OR': {
      c.enter();
      const left = searchKey(c, decode);
      c.sp();
      const right = searchKey(c, decode);
      c.leave();
      return { key: 'OR', left, right };
    }
    case 'MODSEQ':
      return modseqKey(c);
    default:
      return fail(`Unknown search key ${k.slice(0, 40)}`);
  }
}

/** SEARCH [SP "RETURN" SP "(" [opt *(SP opt)] ")"] SP ["CHARSET" SP charset SP] search-key *(SP search-key). */
export function parseSearch(c: Cursor, tag: string, uid: boolean): ImapCommand {
  c.sp();
  let returnOptions: SearchReturnOption[] | null = null;
  let partial: PartialRange | null = null;
  if (c.tryWord('RETURN')) {
    c.sp();
    ({ options: returnOptions, partial } = readReturn<SearchReturnOption>(c, RETURN_OPTIONS, 'SEARCH'));
    c.sp();
  }
  let charset: string | null = null;
  if (c.tryWord('CHARSET')) {
    c.sp();
    charset = readCharset(c);
    c.sp();
  }
  const criteria = searchKeys(c, charset);
  c.end();
  return { tag, name: 'SEARCH', uid, charset, returnOptions, ...(partial ? { partial } : {}), criteria };
}

/** search-key *(SP search-key), strings read as the charset says (also for SORT and THREAD). */
export function searchKeys(c: Cursor, charset: string | null): SearchKey[] {
  const decode = decoderFor(charset);
  const criteria = [searchKey(c, decode)];
  while (c.trySp()) criteria.push(searchKey(c, decode));
  return criteria;
}
