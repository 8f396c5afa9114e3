/** The typed form of IMAP client commands. Keywords are upper-cased; strings are decoded. */
import type { ImapDate, ImapDateTime } from './date.js';
import type { SequenceSet } from './seqset.js';

export type StatusItem = 'MESSAGES' | 'UIDNEXT' | 'UIDVALIDITY' | 'UNSEEN' | 'DELETED' | 'SIZE' | 'RECENT' | 'HIGHESTMODSEQ';

/** QRESYNC parameter of SELECT/EXAMINE (RFC 7162 section 3.2.5). */
export interface QresyncParams {
  readonly uidValidity: number;
  readonly modseq: bigint;
  readonly knownUids: SequenceSet | null;
  readonly seqMatch: { readonly seqs: SequenceSet; readonly uids: SequenceSet } | null;
}

export interface ListReturnOptions {
  readonly subscribed: boolean;
  readonly children: boolean;
  readonly specialUse: boolean;
  /** RFC 5819 RETURN (STATUS (...)); null when not asked. */
  readonly status: readonly StatusItem[] | null;
}

/** One piece of a CATENATE message (RFC 4469): literal text, or an IMAP URL naming stored content. */
export type CatenatePart = { readonly type: 'TEXT'; readonly data: Buffer; readonly binary: boolean } | { readonly type: 'URL'; readonly url: string };

export interface AppendMessage {
  readonly flags: readonly string[];
  readonly date: ImapDateTime | null;
  /** Empty when the message is built from `catenate`. */
  readonly data: Buffer;
  /** Sent as literal8 (RFC 3516): the data may hold NUL and binary parts. */
  readonly binary: boolean;
  /** APPEND ... CATENATE (...): the parts to join, in order; absent for a plain literal. */
  readonly catenate?: readonly CatenatePart[];
}

export type SectionText = 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

/** BODY[section]: part path (empty for the whole message) then an optional text specifier. */
export interface BodySection {
  readonly part: readonly number[];
  readonly text: SectionText | null;
  /** Field names for HEADER.FIELDS / HEADER.FIELDS.NOT, as the client wrote them. */
  readonly fields: readonly string[];
}

export interface FetchPartial {
  readonly offset: number;
  readonly length: number;
}

export type SimpleFetchName =
  | 'FLAGS' | 'INTERNALDATE' | 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' | 'RFC822.SIZE'
  | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE' | 'UID' | 'MODSEQ';

export type FetchAtt =
  | { readonly name: SimpleFetchName }
  | { readonly name: 'BODY[]'; readonly peek: boolean; readonly section: BodySection; readonly partial: FetchPartial | null }
  | { readonly name: 'BINARY[]'; readonly peek: boolean; readonly part: readonly number[]; readonly partial: FetchPartial | null }
  | { readonly name: 'BINARY.SIZE'; readonly part: readonly number[] };

export type SearchFlagKey =
  | 'ALL' | 'ANSWERED' | 'DELETED' | 'DRAFT' | 'FLAGGED' | 'NEW' | 'OLD' | 'RECENT' | 'SEEN'
  | 'UNANSWERED' | 'UNDELETED' | 'UNDRAFT' | 'UNFLAGGED' | 'UNSEEN';
export type SearchStringKey = 'BCC' | 'BODY' | 'CC' | 'FROM' | 'SUBJECT' | 'TEXT' | 'TO';
export type SearchDateKey = 'BEFORE' | 'ON' | 'SINCE' | 'SENTBEFORE' | 'SENTON' | 'SENTSINCE';

export type SearchKey =
  | { readonly key: SearchFlagKey }
  | { readonly key: 'KEYWORD' | 'UNKEYWORD'; readonly flag: string }
  | { readonly key: SearchStringKey; readonly value: string }
  | { readonly key: 'HEADER'; readonly field: string; readonly value: string }
  | { readonly key: SearchDateKey; readonly date: ImapDate }
  | { readonly key: 'LARGER' | 'SMALLER'; readonly size: number }
  | { readonly key: 'UID'; readonly set: SequenceSet }
  /** A bare sequence set of message numbers. */
  | { readonly key: 'SEQ'; readonly set: SequenceSet }
  | { readonly key: 'NOT'; readonly operand: SearchKey }
  | { readonly key: 'OR'; readonly left: SearchKey; readonly right: SearchKey }
  /** A parenthesised group: all must match. */
  | { readonly key: 'AND'; readonly operands: readonly SearchKey[] }
  /** RFC 7162: entry is the optional metadata item, e.g. "/flags/\\draft" with type "all". */
  | { readonly key: 'MODSEQ'; readonly modseq: bigint; readonly entry: { readonly name: string; readonly type: 'priv' | 'shared' | 'all' } | null };

/** UPDATE keeps the result up to date for the rest of the selection (RFC 5267 section 4). */
export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE' | 'UPDATE';

/** SORT keys of RFC 5256 and RFC 5957 (DISPLAYFROM, DISPLAYTO). */
export type SortKeyName = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';
export interface SortCriterion {
  readonly key: SortKeyName;
  readonly reverse: boolean;
}
/** PARTIAL's range (RFC 5267 4.4, RFC 9394): 1-based positions, or from the end when negative; |first| <= |last|. */
export interface PartialRange {
  readonly first: number;
  readonly last: number;
}
/** ESORT return options (RFC 5267). */
export type SortReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'UPDATE';
export type ThreadAlgorithm = 'ORDEREDSUBJECT' | 'REFERENCES';

/** What URLFETCH returns for a URL in the RFC 5524 form. */
export type UrlFetchParam = 'BODYPARTSTRUCTURE' | 'BINARY' | 'BODY';

/** Which mailboxes a NOTIFY event group covers (RFC 5465 section 6). */
export type NotifyFilter =
  | { readonly kind: 'SELECTED' | 'SELECTED-DELAYED' | 'INBOXES' | 'PERSONAL' | 'SUBSCRIBED' }
  | { readonly kind: 'SUBTREE' | 'MAILBOXES'; readonly mailboxes: readonly string[] };

/** Events known to the grammar, in their RFC spelling; anything else is kept upper-cased for the BADEVENT answer. */
export type NotifyEventName =
  | 'MessageNew' | 'MessageExpunge' | 'FlagChange' | 'AnnotationChange'
  | 'MailboxName' | 'SubscriptionChange' | 'MailboxMetadataChange' | 'ServerMetadataChange';

export interface NotifyEvent {
  readonly name: NotifyEventName | string;
  /** MessageNew's fetch attributes, null when none were given. */
  readonly fetch: readonly FetchAtt[] | null;
}

/** One "(filter events)" of NOTIFY SET; events empty for NONE. */
export interface NotifyGroup {
  readonly filter: NotifyFilter;
  readonly events: readonly NotifyEvent[];
}

type Tagged<T> = T & { readonly tag: string };

export type ImapCommand = Tagged<
  | { readonly name: 'CAPABILITY' | 'NOOP' | 'LOGOUT' | 'STARTTLS' | 'NAMESPACE' | 'IDLE' | 'CHECK' | 'CLOSE' | 'UNSELECT' }
  | { readonly name: 'AUTHENTICATE'; readonly mechanism: string; /** SASL-IR (RFC 4959): base64 text, "=" for empty. */ readonly initialResponse: string | null }
  | { readonly name: 'LOGIN'; readonly username: string; readonly password: string }
  | { readonly name: 'ENABLE'; readonly capabilities: readonly string[] }
  | { readonly name: 'ID'; readonly params: ReadonlyArray<readonly [string, string | null]> | null }
  | { readonly name: 'SELECT' | 'EXAMINE'; readonly mailbox: string; readonly condstore: boolean; readonly qresync: QresyncParams | null }
  | { readonly name: 'CREATE'; readonly mailbox: string; /** RFC 6154 USE attributes, e.g. "\\Sent". */ readonly specialUse: readonly string[] }
  | { readonly name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'; readonly mailbox: string }
  | { readonly name: 'RENAME'; readonly from: string; readonly to: string }
  | {
      readonly name: 'LIST';
      /** True when any RFC 5258 syntax was used (selection options, several patterns, RETURN). */
      readonly extended: boolean;
      /** Upper-cased: SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE. */
      readonly selectOptions: readonly string[];
      readonly reference: string;
      readonly patterns: readonly string[];
      readonly returnOptions: ListReturnOptions;
    }
  | { readonly name: 'LSUB'; readonly reference: string; readonly pattern: string }
  | { readonly name: 'STATUS'; readonly mailbox: string; readonly items: readonly StatusItem[] }
  | { readonly name: 'APPEND'; readonly mailbox: string; /** More than one with MULTIAPPEND (RFC 3502). */ readonly messages: readonly AppendMessage[] }
  | { readonly name: 'EXPUNGE'; readonly uid: false }
  | { readonly name: 'EXPUNGE'; readonly uid: true; readonly set: SequenceSet }
  | {
      readonly name: 'SEARCH';
      readonly uid: boolean;
      readonly charset: string | null;
      /** null without RETURN; RETURN () is given as []. */
      readonly returnOptions: readonly SearchReturnOption[] | null;
      /** RETURN (PARTIAL first:last), absent when not asked. */
      readonly partial?: PartialRange;
      readonly criteria: readonly SearchKey[];
    }
  | {
      readonly name: 'SORT';
      readonly uid: boolean;
      /** null without RETURN (a plain SORT response); RETURN () is given as []. */
      readonly returnOptions: readonly SortReturnOption[] | null;
      /** RETURN (PARTIAL first:last), absent when not asked. */
      readonly partial?: PartialRange;
      readonly sort: readonly SortCriterion[];
      readonly charset: string;
      readonly criteria: readonly SearchKey[];
    }
  | { readonly name: 'THREAD'; readonly uid: boolean; readonly algorithm: ThreadAlgorithm; readonly charset: string; readonly criteria: readonly SearchKey[] }
  | {
      readonly name: 'FETCH';
      readonly uid: boolean;
      readonly set: SequenceSet;
      /** Set when the client used ALL, FAST or FULL; items holds the expansion. */
      readonly macro: 'ALL' | 'FAST' | 'FULL' | null;
      readonly items: readonly FetchAtt[];
      readonly changedSince: bigint | null;
      readonly vanished: boolean;
    }
  | {
      readonly name: 'STORE';
      readonly uid: boolean;
      readonly set: SequenceSet;
      readonly operation: 'set' | 'add' | 'remove';
      readonly silent: boolean;
      readonly flags: readonly string[];
      readonly unchangedSince: bigint | null;
    }
  | { readonly name: 'COPY' | 'MOVE'; readonly uid: boolean; readonly set: SequenceSet; readonly mailbox: string }
  /** CANCELUPDATE (RFC 5267 4.2): the tags of the searches to stop updating. */
  | { readonly name: 'CANCELUPDATE'; readonly tags: readonly string[] }
  | { readonly name: 'GETQUOTA'; readonly root: string }
  | { readonly name: 'GETQUOTAROOT'; readonly mailbox: string }
  | { readonly name: 'SETQUOTA'; readonly root: string; readonly limits: ReadonlyArray<{ readonly resource: string; readonly limit: number }> }
  | { readonly name: 'GENURLAUTH'; readonly requests: ReadonlyArray<{ readonly url: string; readonly mechanism: string }> }
  | { readonly name: 'RESETKEY'; readonly mailbox: string | null; readonly mechanisms: readonly string[] }
  /** params null for a plain URL (RFC 4467), a list for "(url params)" (RFC 5524). */
  | { readonly name: 'URLFETCH'; readonly urls: ReadonlyArray<{ readonly url: string; readonly params: readonly UrlFetchParam[] | null }> }
  /** NOTIFY (RFC 5465): groups null for NOTIFY NONE. */
  | { readonly name: 'NOTIFY'; readonly status: boolean; readonly groups: readonly NotifyGroup[] | null }
  /** A command name postern does not know; answer BAD. */
  | { readonly name: 'unknown'; readonly verb: string }
>;

export type ImapCommandName = ImapCommand['name'];
