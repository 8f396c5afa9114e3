/**
 * ENVELOPE and BODYSTRUCTURE data (the MIME codec's ImapEnvelope and
 * ImapBodyStructure) as compact JSON for the header cache: positional arrays
 * instead of objects with named members, and Sender/Reply-To written as 0
 * when they are From (as buildEnvelope makes them when the fields are
 * absent). About half the size of plain JSON: the cache writes one per
 * message, and reads one per message a client syncs.
 */
import type { ImapAddress, ImapBodyStructure, ImapDisposition, ImapEnvelope, ImapParam } from '../codec/mime/index.js';

type Json = null | string | number | Json[];

const address = (a: ImapAddress): Json => [a.name, a.adl, a.mailbox, a.host];
const addresses = (list: readonly ImapAddress[] | null): Json => (list ? list.map(address) : null);
function params(list: readonly ImapParam[]): Json {
  const out: string[] = [];
  for (const p of list) out.push(p.name, p.value);
  return out;
}
const disposition = (d: ImapDisposition | null): Json => (d ? [d.type, params(d.params)] : null);
const strings = (list: readonly string[] | null): Json => (list ? [...list] : null);

function envelope(e: ImapEnvelope): Json {
  const sameAsFrom = (list: readonly ImapAddress[] | null): Json => (list !== null && list === e.from ? 0 : addresses(list));
  return [e.date, e.subject, addresses(e.from), sameAsFrom(e.sender), sameAsFrom(e.replyTo), addresses(e.to), addresses(e.cc), addresses(e.bcc), e.inReplyTo, e.messageId];
}

function body(b: ImapBodyStructure): Json {
  const ext = [disposition(b.disposition), strings(b.language), b.location];
  if (b.kind === 'multipart') return [1, b.subtype, b.children.map(body), params(b.params), ...ext];
  return [
    0,
    b.type,
    b.subtype,
    params(b.params),
    b.id,
    b.description,
    b.encoding,
    b.size,
    b.lines,
    b.envelope ? envelope(b.envelope) : null,
    b.body ? body(b.body) : null,
    b.md5,
    ...ext,
  ];
}

/** The compact JSON text of a message's structure. */
export function encodeStructure(e: ImapEnvelope, b: ImapBodyStructure): string {
  return JSON.stringify([envelope(e), body(b)]);
}

// Decoding trusts the shape: the text comes from encodeStructure, behind a checksum.
type Row = unknown[];
const str = (v: unknown): string | null => (v === null ? null : String(v));
const toAddress = (r: Row): ImapAddress => ({ name: str(r[0]), adl: str(r[1]), mailbox: str(r[2]), host: str(r[3]) });
const toAddresses = (v: unknown): ImapAddress[] | null => (v === null ? null : (v as Row[]).map(toAddress));
function toParams(v: unknown): ImapParam[] {
  const flat = v as string[];
  const out: ImapParam[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ name: flat[i]!, value: flat[i + 1]! });
  return out;
}
const toDisposition = (v: unknown): ImapDisposition | null => (v === null ? null : { type: String((v as Row)[0]), params: toParams((v as Row)[1]) });
const toStrings = (v: unknown): string[] | null => (v === null ? null : (v as string[]).map(String));

function toEnvelope(r: Row): ImapEnvelope {
  const from = toAddresses(r[2]);
  const orFrom = (v: unknown): ImapAddress[] | null => (v === 0 ? from : toAddresses(v));
  return {
    date: str(r[0]),
    subject: str(r[1]),
    from,
    sender: orFrom(r[3]),
    replyTo: orFrom(r[4]),
    to: toAddresses(r[5]),
    cc: toAddresses(r[6]),
    bcc: toAddresses(r[7]),
    inReplyTo: str(r[8]),
    messageId: str(r[9]),
  };
}

function toBody(r: Row): ImapBodyStructure {
  if (r[0] === 1) {
    return {
      kind: 'multipart',
      subtype: String(r[1]),
      children: (r[2] as Row[]).map(toBody),
      params: toParams(r[3]),
      disposition: toDisposition(r[4]),
      language: toStrings(r[5]),
      location: str(r[6]),
    };
  }
  return {
    kind: 'single',
    type: String(r[1]),
    subtype: String(r[2]),
    params: toParams(r[3]),
    id: str(r[4]),
    description: str(r[5]),
    encoding: String(r[6]),
    size: Number(r[7]),
    lines: r[8] === null ? null : Number(r[8]),
    envelope: r[9] === null ? null : toEnvelope(r[9] as Row),
    body: r[10] === null ? null : toBody(r[10] as Row),
    md5: str(r[11]),
    disposition: toDisposition(r[12]),
    language: toStrings(r[13]),
    location: str(r[14]),
  };
}

/** The structure back from encodeStructure's text. */
export function decodeStructure(text: string): { envelope: ImapEnvelope; body: ImapBodyStructure } {
  const [e, b] = JSON.parse(text) as [Row, Row];
  return { envelope: toEnvelope(e), body: toBody(b) };
}
