/**
 * IMAP response encoding of stored mail: the MIME parse turned into ENVELOPE
 * and BODYSTRUCTURE (as src/imap does), FETCH, LIST and STATUS responses, and
 * modified UTF-7 names. Promises checked: every response reads back as one
 * well-formed response (a stored value never injects a line); mailbox names
 * round trip through modified UTF-7.
 */
import fc from 'fast-check';
import {
  decodeMailboxUtf7,
  encodeBodyStructure,
  encodeEnvelope,
  encodeMailboxUtf7,
  expandSequenceSet,
  fetchResponse,
  formatImapDate,
  formatInternalDate,
  formatSequenceSet,
  formatUidSet,
  inSequenceSet,
  listResponse,
  MONTHS,
  parseImapDate,
  parseImapDateTime,
  parseSequenceSet,
  quotaRootResponse,
  sequenceSetCount,
  type EncodeOptions,
  type SeqRange,
} from '../../../src/codec/imap/index.js';
import { headerFields, parseMessage } from '../../../src/codec/mime/index.js';
import { structureOf } from '../../../src/imap/structure.js';
import { wireProblem } from '../harness/imap-wire.js';
import { anyBytes, mutatedSeeds, tokenSoup } from '../harness/mutate.js';
import { mailSeeds } from '../harness/seeds.js';
import { check, inputSeed, prng, type FuzzTarget } from '../harness/types.js';

const TOKENS = ['"', '\\', '\r\n', '\n', '\r', '\0', '(', ')', '{5}', '{0}\r\n', '~{1}', '* ', 'a OK ', '&', '&-', '&AOk-', 'é', '\u{1F600}', ':', ',', '*', '1:*', '4294967295'];

function wellFormed(what: string, bufs: Buffer | Buffer[]): void {
  const b = Array.isArray(bufs) ? Buffer.concat(bufs) : bufs;
  const p = wireProblem(b);
  check(p === null, () => `${what}: ${p}: ${JSON.stringify(b.toString('latin1').slice(0, 300))}`);
}

/** The range helpers against the obvious per-number reading, for a small mailbox. */
function checkSet(ranges: readonly SeqRange[], max: number): void {
  const naive: number[] = [];
  for (let n = 1; n <= max; n++) {
    const hit = ranges.some((r) => {
      const a = r.from === '*' ? max : r.from;
      const b = r.to === '*' ? max : r.to;
      return n >= Math.min(a, b) && n <= Math.max(a, b);
    });
    if (hit) naive.push(n);
    check(inSequenceSet(ranges, n, max) === hit, `inSequenceSet(${n}) is wrong for max ${max}`);
  }
  check([...expandSequenceSet(ranges, max)].join() === naive.join(), `expandSequenceSet disagrees with the ranges for max ${max}`);
  check(sequenceSetCount(ranges, max) === naive.length, 'sequenceSetCount disagrees with the ranges');
  const back = parseSequenceSet(formatUidSet(naive) || '0');
  check(naive.length === 0 || (back?.type === 'set' && [...expandSequenceSet(back.ranges, max)].join() === naive.join()), 'formatUidSet does not read back as its numbers');
}

/** An IMAP date-time from the input: parse, format in its own zone, parse again, same instant. */
function checkDates(buf: Buffer): void {
  const rnd = prng(inputSeed(buf));
  const pick = (n: number): number => Math.floor(rnd() * n);
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  const text = `${pad(1 + pick(31), 2)}-${MONTHS[pick(12)]}-${pad(pick(10000), 4)} ${pad(pick(24), 2)}:${pad(pick(60), 2)}:${pad(pick(60), 2)} ${pick(2) ? '+' : '-'}${pad(pick(24), 2)}${pad(pick(60), 2)}`;
  const dt = parseImapDateTime(text);
  if (dt === null) return;
  // Same text, except that "-0000" comes back as "+0000" (the same instant and zone).
  const again = formatInternalDate(dt.date, dt.zoneMinutes);
  check(again === text.replace(/-0000$/, '+0000'), () => `date-time ${text} reads back as ${again}`);
  const day = text.slice(0, 11).replace(/^0/, '');
  const d = parseImapDate(day);
  check(d !== null && formatImapDate(d) === day, () => `date ${day} does not read back`);
}

function run(input: Uint8Array): 'ok' | 'rejected' {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const msg = parseMessage(buf);
  const s = structureOf(msg);
  const text = buf.toString('utf8', 0, Math.min(buf.length, 512));
  for (const options of [{}, { utf8: true }, { maxQuoted: 8 }] as EncodeOptions[]) {
    wellFormed('FETCH', fetchResponse(7, [
      ['UID', 42],
      ['ENVELOPE', encodeEnvelope(s.envelope)],
      ['BODYSTRUCTURE', encodeBodyStructure(s.body, true)],
      ['BODY', encodeBodyStructure(s.body, false)],
      ['BODY[HEADER.FIELDS (FROM SUBJECT)]', headerFields(msg, msg.root, ['From', 'Subject'])],
      ['X-SUBJECT', s.envelope.subject],
    ], options));
    wellFormed('LIST', listResponse({ attributes: ['\\HasNoChildren', text], delimiter: '/', name: text }, options));
    wellFormed('QUOTAROOT', quotaRootResponse(text, [text, ''], options));
  }
  // Modified UTF-7: any name encodes to printable ASCII and decodes back (text from UTF-8 has no lone surrogates).
  const enc = encodeMailboxUtf7(text);
  check(/^[\x20-\x7e]*$/.test(enc), 'modified UTF-7 wrote a byte outside printable ASCII');
  check(decodeMailboxUtf7(enc) === text, () => `modified UTF-7 does not round trip: ${JSON.stringify(text.slice(0, 80))}`);
  const decoded = decodeMailboxUtf7(text);
  if (decoded !== null) check(encodeMailboxUtf7(decoded) === text, 'a name decodeMailboxUtf7 accepts does not encode back to itself');
  const set = parseSequenceSet(buf.toString('latin1', 0, Math.min(buf.length, 256)));
  if (set) {
    const again = parseSequenceSet(formatSequenceSet(set));
    check(again !== null && formatSequenceSet(again) === formatSequenceSet(set), 'a sequence set does not survive format and parse');
    if (set.type === 'set') checkSet(set.ranges, inputSeed(input) % 60);
  }
  checkDates(buf);
  return 'ok';
}

export const imapEncode: FuzzTarget = {
  name: 'imap-encode',
  seeds: () => mailSeeds(256 * 1024),
  arbitrary: fc.oneof(
    { weight: 6, arbitrary: mutatedSeeds(mailSeeds(64 * 1024), { dictionary: TOKENS, maxBytes: 128 * 1024 }) },
    { weight: 2, arbitrary: tokenSoup(TOKENS) },
    { weight: 1, arbitrary: fc.array(fc.oneof(fc.nat(5000).map(String), fc.constantFrom(':', ',', '*', '$')), { maxLength: 40 }).map((x) => Buffer.from(x.join(''), 'latin1')) },
    { weight: 1, arbitrary: anyBytes(2048) },
  ),
  run,
};
