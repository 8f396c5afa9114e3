/** Untagged data responses other than FETCH. Each returns one Buffer ending in CRLF. */
import type { PartialRange, StatusItem } from '../ast.js';
import { encodeMailboxUtf7 } from '../mutf7.js';
import { formatUidSet } from '../seqset.js';
import { encodeFlags } from './flags.js';
import { atom, quote, ResponseWriter, type EncodeOptions, type ImapValue } from './value.js';

const ATOMISH = /^[!#-'+-Z^-z|~]+$/;
const atoms = (words: readonly string[]): string => words.filter((w) => ATOMISH.test(w)).join(' ');

function line(text: string): Buffer {
  return Buffer.from(`* ${text}\r\n`, 'utf8');
}

function writerLine(options: EncodeOptions, build: (w: ResponseWriter) => void): Buffer {
  const w = new ResponseWriter(options).write('* ');
  build(w);
  return w.write('\r\n').buffer();
}

/** A mailbox name as sent to this client: modified UTF-7 unless UTF-8 is enabled. */
export function mailboxWireName(name: string, options: EncodeOptions = {}): string {
  return options.utf8 ? name : encodeMailboxUtf7(name);
}

export const capabilityResponse = (caps: readonly string[]): Buffer => line(`CAPABILITY ${atoms(caps)}`);
export const enabledResponse = (caps: readonly string[]): Buffer => line(caps.length > 0 ? `ENABLED ${atoms(caps)}` : 'ENABLED');
export const existsResponse = (n: number): Buffer => line(`${n} EXISTS`);
export const recentResponse = (n: number): Buffer => line(`${n} RECENT`);
export const expungeResponse = (seq: number): Buffer => line(`${seq} EXPUNGE`);
export const flagsResponse = (flags: Iterable<string>): Buffer => line(`FLAGS ${encodeFlags(flags)}`);

/** "* ID (...)" or "* ID NIL" (RFC 2971). */
export function idResponse(params: ReadonlyArray<readonly [string, string | null]> | null, options: EncodeOptions = {}): Buffer {
  return writerLine(options, (w) => w.write('ID ').value(params === null || params.length === 0 ? null : params.flatMap(([k, v]) => [k, v])));
}

export interface NamespaceEntry {
  readonly prefix: string;
  readonly delimiter: string | null;
}

/** "* NAMESPACE personal other shared" (RFC 2342); null or [] for none. */
export function namespaceResponse(
  personal: readonly NamespaceEntry[] | null,
  other: readonly NamespaceEntry[] | null,
  shared: readonly NamespaceEntry[] | null,
  options: EncodeOptions = {},
): Buffer {
  const group = (g: readonly NamespaceEntry[] | null): ImapValue =>
    g === null || g.length === 0 ? null : g.map((e) => [mailboxWireName(e.prefix, options), e.delimiter]);
  return writerLine(options, (w) => w.write('NAMESPACE ').values([group(personal), group(other), group(shared)]));
}

export interface ListEntry {
  /** e.g. "\\HasNoChildren", "\\Sent", "\\Subscribed". */
  readonly attributes: readonly string[];
  readonly delimiter: string | null;
  readonly name: string;
  /** RFC 5258 CHILDINFO extended data, e.g. ["SUBSCRIBED"]. */
  readonly childInfo?: readonly string[];
  /** RFC 9051 OLDNAME extended data. */
  readonly oldName?: string;
}

function listLike(kind: 'LIST' | 'LSUB', e: ListEntry, options: EncodeOptions): Buffer {
  return writerLine(options, (w) => {
    w.write(`${kind} ${encodeFlags(e.attributes)} `);
    w.write(e.delimiter === null ? 'NIL' : quote(e.delimiter.slice(0, 1)));
    w.write(' ').value(mailboxWireName(e.name, options));
    const ext: ImapValue[] = [];
    if (e.childInfo && e.childInfo.length > 0) ext.push('CHILDINFO', e.childInfo.map((c) => c));
    if (e.oldName !== undefined) ext.push('OLDNAME', [mailboxWireName(e.oldName, options)]);
    if (ext.length > 0) w.write(' ').value(ext);
  });
}

export const listResponse = (e: ListEntry, options: EncodeOptions = {}): Buffer => listLike('LIST', e, options);
export const lsubResponse = (e: ListEntry, options: EncodeOptions = {}): Buffer => listLike('LSUB', e, options);

/** "* STATUS name (MESSAGES 2 UIDNEXT 5)". */
export function statusDataResponse(
  mailbox: string,
  items: ReadonlyArray<readonly [StatusItem, number | bigint]>,
  options: EncodeOptions = {},
): Buffer {
  return writerLine(options, (w) => {
    w.write('STATUS ').value(mailboxWireName(mailbox, options)).write(' ');
    w.value(items.flatMap(([k, v]) => [atom(k), v]));
  });
}

/** "* SEARCH 2 5 6" with the RFC 7162 "(MODSEQ n)" when given. */
export function searchResponse(numbers: readonly number[], modseq?: bigint | number): Buffer {
  const tail = modseq !== undefined && numbers.length > 0 ? ` (MODSEQ ${modseq})` : '';
  return line(['SEARCH', ...numbers.map(String)].join(' ') + tail);
}

export interface EsearchResult {
  /** The command tag, for the (TAG "...") correlator. */
  readonly tag?: string;
  readonly uid: boolean;
  readonly min?: number;
  readonly max?: number;
  /** Written compactly; left out when empty. */
  readonly all?: readonly number[];
  readonly count?: number;
  readonly modseq?: bigint | number;
  /** RETURN (PARTIAL): the range asked and the numbers at those positions (RFC 5267 4.4). */
  readonly partial?: { readonly range: PartialRange; readonly numbers: readonly number[] };
}

/** "PARTIAL (2:4 2,4:5)", NIL for no numbers; `set` writes the numbers. */
export function partialItem(range: PartialRange, numbers: readonly number[], set: (n: readonly number[]) => string): string {
  return `PARTIAL (${range.first}:${range.last} ${numbers.length > 0 ? set(numbers) : 'NIL'})`;
}

/** "* ESEARCH (TAG "a1") UID MIN 2 MAX 9 COUNT 3 ALL 2,5:6" (RFC 4731 / RFC 9051). */
export function esearchResponse(r: EsearchResult): Buffer {
  const parts = ['ESEARCH'];
  if (r.tag !== undefined) parts.push(`(TAG ${quote(r.tag.replace(/[\r\n\0]/g, ''))})`);
  if (r.uid) parts.push('UID');
  if (r.min !== undefined) parts.push(`MIN ${r.min}`);
  if (r.max !== undefined) parts.push(`MAX ${r.max}`);
  if (r.all !== undefined && r.all.length > 0) parts.push(`ALL ${formatUidSet(r.all)}`);
  if (r.count !== undefined) parts.push(`COUNT ${r.count}`);
  if (r.modseq !== undefined) parts.push(`MODSEQ ${r.modseq}`);
  if (r.partial !== undefined) parts.push(partialItem(r.partial.range, r.partial.numbers, formatUidSet));
  return line(parts.join(' '));
}

/** "* VANISHED (EARLIER) 41,43:116" (RFC 7162); an empty Buffer when there are no UIDs. */
export function vanishedResponse(uids: Iterable<number>, earlier: boolean): Buffer {
  const set = formatUidSet(uids);
  if (set.length === 0) return Buffer.alloc(0);
  return line(`VANISHED ${earlier ? '(EARLIER) ' : ''}${set}`);
}

export interface QuotaResource {
  /** e.g. STORAGE (in KiB), MESSAGE, MAILBOX. */
  readonly name: string;
  readonly usage: number;
  readonly limit: number;
}

/** "* QUOTA root (STORAGE 10 512)" (RFC 9208). */
export function quotaResponse(root: string, resources: readonly QuotaResource[], options: EncodeOptions = {}): Buffer {
  return writerLine(options, (w) => {
    w.write('QUOTA ').value(root).write(' ');
    w.value(resources.filter((r) => ATOMISH.test(r.name)).flatMap((r) => [atom(r.name), r.usage, r.limit]));
  });
}

/** "* QUOTAROOT mailbox root..." (RFC 9208). */
export function quotaRootResponse(mailbox: string, roots: readonly string[], options: EncodeOptions = {}): Buffer {
  return writerLine(options, (w) => {
    w.write('QUOTAROOT ').value(mailboxWireName(mailbox, options));
    for (const r of roots) w.write(' ').value(r);
  });
}

/** GENURLAUTH (RFC 4467): the authorized URLs, in the order asked. */
export function genUrlauthResponse(urls: readonly string[], options: EncodeOptions = {}): Buffer {
  return writerLine(options, (w) => w.write('GENURLAUTH ').values(urls));
}

/**
 * URLFETCH for one URL: its content or NIL (RFC 4467), or with RFC 5524
 * parameters a list of the items asked, e.g. (BODYPARTSTRUCTURE (...) BINARY ~{n}).
 */
export function urlFetchResponse(url: string, data: Buffer | null | readonly ImapValue[], options: EncodeOptions = {}): Buffer {
  return writerLine(options, (w) => w.write('URLFETCH ').values([url, data as ImapValue]));
}
