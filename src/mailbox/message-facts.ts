/**
 * What SORT and THREAD need of one message, from its header fields (the
 * cached header section, at most 64 KiB, or the parsed blob): decoded and
 * case-mapped keys, the sent date, and the Message-IDs that link threads.
 */
import { decodeEncodedWords, formatAddress, parseAddressNodes, type HeaderField } from '../codec/mime/index.js';
import { baseSubject, casemap, MAX_SUBJECT } from './base-subject.js';
import { parseSentDate } from './sent-date.js';
import type { SortFacts } from './sort.js';
import type { ThreadFacts } from './thread.js';

/** Longest address field value parsed for its first mailbox (the first one is near the start). */
const MAX_ADDRESS = 4096;
/** Most Message-IDs taken from a References field (the last ones, nearest the message). */
export const MAX_REFERENCES = 1000;

export interface MessageMeta {
  readonly seq: number;
  readonly uid: number;
  readonly size: number;
  readonly internalDate: number;
}

export type MessageFacts = SortFacts & ThreadFacts & { readonly uid: number };

const first = (fields: readonly HeaderField[], name: string): string | null => {
  for (const f of fields) if (f.name.toLowerCase() === name) return f.value;
  return null;
};

interface FirstAddress {
  /** The addr-mailbox: a mailbox's local part, or a group's name (as the group's ENVELOPE entry has it). */
  readonly mailbox: string;
  /** RFC 5957: the decoded display name, else the address (for a group, its name). */
  readonly display: string;
}

function firstAddress(value: string | null): FirstAddress | null {
  if (value === null) return null;
  const nodes = parseAddressNodes(value.length > MAX_ADDRESS ? value.slice(0, MAX_ADDRESS) : value);
  const n = nodes[0];
  if (!n) return null;
  if (n.kind === 'group') {
    const name = decodeEncodedWords(n.phrase).trim();
    return { mailbox: name, display: name };
  }
  const name = decodeEncodedWords(n.phrase || n.comment || '').trim();
  return { mailbox: n.local, display: name !== '' ? name : formatAddress(n.local, n.domain) };
}

/** The msg-ids ("<left@right>") in a field value, in order, the last `limit` of them; anything else is skipped. */
export function messageIds(value: string | null, limit: number): string[] {
  const out: string[] = [];
  if (value === null) return out;
  // One pass: each '>' closes the nearest '<' before it ("<a <b@c>" gives b@c).
  let open = -1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x3c) open = i;
    else if (c === 0x3e && open >= 0) {
      const id = value.slice(open + 1, i);
      if (/^[^\s@]+@[^\s@]+$/.test(id)) out.push(id);
      open = -1;
    }
  }
  return out.length > limit ? out.slice(out.length - limit) : out;
}

/** The keys of one message. */
export function messageFacts(meta: MessageMeta, fields: readonly HeaderField[]): MessageFacts {
  const rawSubject = first(fields, 'subject') ?? '';
  const subject = baseSubject(decodeEncodedWords(rawSubject.length > MAX_SUBJECT * 4 ? rawSubject.slice(0, MAX_SUBJECT * 4) : rawSubject));
  const dateField = first(fields, 'date');
  const sent = dateField === null ? null : parseSentDate(dateField);
  const from = firstAddress(first(fields, 'from'));
  const to = firstAddress(first(fields, 'to'));
  const cc = firstAddress(first(fields, 'cc'));
  const references = messageIds(first(fields, 'references'), MAX_REFERENCES);
  return {
    seq: meta.seq,
    uid: meta.uid,
    arrival: meta.internalDate,
    date: sent ?? meta.internalDate,
    size: meta.size,
    subject: casemap(subject.base),
    isReplyOrForward: subject.isReplyOrForward,
    from: casemap(from?.mailbox ?? ''),
    to: casemap(to?.mailbox ?? ''),
    cc: casemap(cc?.mailbox ?? ''),
    displayFrom: casemap(from?.display ?? ''),
    displayTo: casemap(to?.display ?? ''),
    messageId: messageIds(first(fields, 'message-id'), MAX_REFERENCES)[0] ?? null,
    // RFC 5256 section 3 step 1A: References, else the first msg-id of In-Reply-To.
    references: references.length > 0 ? references : messageIds(first(fields, 'in-reply-to'), MAX_REFERENCES).slice(0, 1),
  };
}

/** Facts for a message whose header is not needed (ARRIVAL/SIZE only) or could not be read. */
export function metaFacts(meta: MessageMeta): MessageFacts {
  return messageFacts(meta, []);
}
