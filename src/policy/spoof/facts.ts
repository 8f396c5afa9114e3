/**
 * The costly half of the spoof checks: read the header and the start of the
 * body into bounded, plain facts (structured-clone-able, so a worker thread
 * can hand them back). Never throws: unreadable input becomes problems.
 */
import { decodeEncodedWords, decodePartText, getFields, headerValue, parseAddressList, parseAddressNodes } from '../../codec/mime/index.js';
import { parseOnce } from '../pool/parse-memo.js';
import type { HeaderField, MailboxNode, MimeMessage, MimePart } from '../../codec/mime/index.js';
import { htmlToText } from '../../codec/mime/index.js';
import { hasUnsafeChars, sanitize } from './sanitize.js';
import type { AddressFieldFact, AddressProblem, FactLimits, MailboxFact, MessageFacts } from './types.js';

export const DEFAULT_FACT_LIMITS: Required<FactLimits> = {
  maxHeaderBytes: 1024 * 1024,
  maxBodyChars: 64 * 1024,
  maxPartBytes: 256 * 1024,
};

/** An address field (all its instances) larger than this is "too-long" and only its start is read. */
export const MAX_ADDRESS_FIELD_BYTES = 4096;
export const MAX_LINE_BYTES = 998;
const MAX_MAILBOXES = 50;
const MAX_NAME_CHARS = 256;
const MAX_SUBJECT_CHARS = 1000;
const MAX_SHORT_VALUE = 256;
/** Parts looked at for body text; a message of thousands of parts is not read further. */
const MAX_PARTS_WALKED = 200;

/** Single-instance fields of RFC 5322 section 3.6 (From is counted on its own). */
const SINGLE_FIELDS = ['date', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'message-id', 'in-reply-to', 'references', 'subject'];

// Bounded pieces around one "@"; names are cut to MAX_NAME_CHARS before this runs.
const NAME_ADDRESS = /[^\s<>"'(),;:@[\]]{1,64}@[^\s<>"'(),;:@[\]]{1,253}/g;

function emptyField(): AddressFieldFact {
  return { count: 0, rawLength: 0, maxLineLength: 0, mailboxes: [], problems: [] };
}

/** Parses `raw` into MessageFacts within `limits`. */
export function extractFacts(raw: Uint8Array, limits: FactLimits = {}): MessageFacts {
  const lim = { ...DEFAULT_FACT_LIMITS, ...limits };
  try {
    const msg = parseOnce(raw, { maxHeaderBytes: lim.maxHeaderBytes });
    return factsOf(msg, lim);
  } catch {
    // The codec does not throw; this is a last guard so a worker never dies on input.
    return {
      from: { ...emptyField(), problems: ['unparseable'] }, sender: null, replyTo: null, returnPath: null, subject: null,
      messageId: null, hasDate: false, duplicates: [], listId: null, listPost: null, listUnsubscribe: false,
      precedence: null, autoSubmitted: null, bodyText: '', headerTruncated: true,
    };
  }
}

function factsOf(msg: MimeMessage, lim: Required<FactLimits>): MessageFacts {
  const header = msg.root.header;
  const fields = header.fields;
  const duplicates = SINGLE_FIELDS.filter((n) => countFields(fields, n) > 1);
  const returnPathValue = headerValue(fields, 'return-path');
  const subject = headerValue(fields, 'subject');
  return {
    from: addressField(getFields(fields, 'from')),
    sender: optionalField(getFields(fields, 'sender')),
    replyTo: optionalField(getFields(fields, 'reply-to')),
    returnPath: returnPathValue === null ? null : returnPathAddress(returnPathValue),
    subject: subject === null ? null : sanitize(decodeEncodedWords(subject.slice(0, MAX_SUBJECT_CHARS * 4)), MAX_SUBJECT_CHARS),
    messageId: short(headerValue(fields, 'message-id')),
    hasDate: countFields(fields, 'date') > 0,
    duplicates,
    listId: short(headerValue(fields, 'list-id')),
    listPost: short(headerValue(fields, 'list-post')),
    listUnsubscribe: countFields(fields, 'list-unsubscribe') > 0,
    precedence: short(headerValue(fields, 'precedence'))?.toLowerCase() ?? null,
    autoSubmitted: short(headerValue(fields, 'auto-submitted'))?.toLowerCase() ?? null,
    bodyText: bodyText(msg, lim),
    headerTruncated: header.truncated,
  };
}

function countFields(fields: readonly HeaderField[], name: string): number {
  let n = 0;
  for (const f of fields) if (f.name.length === name.length && f.name.toLowerCase() === name) n++;
  return n;
}

function short(value: string | null): string | null {
  return value === null ? null : sanitize(value, MAX_SHORT_VALUE);
}

function returnPathAddress(value: string): string {
  const v = value.slice(0, MAX_ADDRESS_FIELD_BYTES);
  if (/^<\s*>/.test(v.trim())) return '';
  const first = parseAddressList(v)[0];
  return (first?.address ?? '').toLowerCase();
}

function optionalField(fs: HeaderField[]): AddressFieldFact | null {
  return fs.length === 0 ? null : addressField(fs);
}

function longestLine(raw: Uint8Array): number {
  let longest = 0;
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x0a) continue;
    const end = i > start && raw[i - 1] === 0x0d ? i - 1 : i;
    longest = Math.max(longest, end - start);
    start = i + 1;
  }
  return Math.max(longest, raw.length - start);
}

function addressField(fs: HeaderField[]): AddressFieldFact {
  if (fs.length === 0) return emptyField();
  const problems = new Set<AddressProblem>();
  let rawLength = 0;
  let maxLineLength = 0;
  for (const f of fs) {
    rawLength += f.raw.length;
    maxLineLength = Math.max(maxLineLength, longestLine(f.raw));
  }
  if (rawLength > MAX_ADDRESS_FIELD_BYTES) problems.add('too-long');
  if (maxLineLength > MAX_LINE_BYTES) problems.add('line-too-long');
  const mailboxes: MailboxFact[] = [];
  let budget = MAX_ADDRESS_FIELD_BYTES;
  for (const f of fs) {
    if (budget <= 0) break;
    const value = f.value.slice(0, budget);
    budget -= value.length;
    const nodes = parseAddressNodes(value);
    if (nodes.length === 0) problems.add('unparseable');
    for (const node of nodes) {
      const members = node.kind === 'group' ? node.members : [node];
      if (node.kind === 'group') problems.add('group');
      for (const m of members) {
        if (mailboxes.length >= MAX_MAILBOXES) {
          problems.add('too-many-mailboxes');
          break;
        }
        const fact = mailboxFact(m);
        if (fact.address === '') problems.add('no-address');
        if (hasUnsafeChars(fact.name)) problems.add('control-chars');
        if (fact.nameEncoded && fact.nameAddresses.some((a) => a !== fact.address)) problems.add('encoded-address');
        mailboxes.push(fact);
      }
    }
  }
  if (mailboxes.length === 0) problems.add('unparseable');
  return { count: fs.length, rawLength, maxLineLength, mailboxes, problems: [...problems] };
}

function mailboxFact(m: MailboxNode): MailboxFact {
  const rawName = (m.phrase || m.comment || '').slice(0, MAX_NAME_CHARS * 4);
  const name = decodeEncodedWords(rawName).slice(0, MAX_NAME_CHARS);
  const ok = m.local !== '' && m.domain !== '' && !m.domain.startsWith('.');
  const domain = ok ? m.domain.toLowerCase() : '';
  return {
    name,
    nameEncoded: rawName.includes('=?'),
    nameAddresses: addressesIn(name),
    address: ok ? `${m.local}@${m.domain}`.toLowerCase() : '',
    domain,
  };
}

function addressesIn(name: string): string[] {
  if (!name.includes('@')) return [];
  const out: string[] = [];
  NAME_ADDRESS.lastIndex = 0;
  for (let m = NAME_ADDRESS.exec(name); m && out.length < 3; m = NAME_ADDRESS.exec(name)) {
    const a = m[0].toLowerCase().replace(/[.]+$/, '');
    if (a.slice(a.indexOf('@') + 1).includes('.')) out.push(a);
  }
  return out;
}

function isAttachment(p: MimePart): boolean {
  return p.disposition?.type === 'attachment';
}

/** Text of the first text/plain and the first text/html part outside attachments and enclosed messages. */
function bodyText(msg: MimeMessage, lim: Required<FactLimits>): string {
  let plain: MimePart | null = null;
  let html: MimePart | null = null;
  const todo: MimePart[] = [msg.root];
  let walked = 0;
  while (todo.length > 0 && walked++ < MAX_PARTS_WALKED && !(plain && html)) {
    const p = todo.shift()!;
    if (p.multipart) {
      todo.push(...p.children);
      continue;
    }
    if (isAttachment(p) || p.contentType.type !== 'text') continue;
    if (p.contentType.subtype === 'plain' && !plain) plain = p;
    else if (p.contentType.subtype === 'html' && !html) html = p;
  }
  let text = '';
  if (plain) text += decodePartText(msg, plain, lim.maxPartBytes).slice(0, lim.maxBodyChars);
  if (html && text.length < lim.maxBodyChars) {
    const h = decodePartText(msg, html, lim.maxPartBytes);
    text += (text ? '\n' : '') + htmlToText(h, lim.maxBodyChars - text.length);
  }
  return text.length > lim.maxBodyChars ? text.slice(0, lim.maxBodyChars) : text;
}
