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
  fetchResponse,
  formatSequenceSet,
  listResponse,
  parseSequenceSet,
  quotaRootResponse,
  type EncodeOptions,
} from '../../../src/codec/imap/index.js';
import { headerFields, parseMessage } from '../../../src/codec/mime/index.js';
import { structureOf } from '../../../src/imap/structure.js';
import { wireProblem } from '../harness/imap-wire.js';
import { anyBytes, mutatedSeeds, tokenSoup } from '../harness/mutate.js';
import { mailSeeds } from '../harness/seeds.js';
import { check, type FuzzTarget } from '../harness/types.js';

const TOKENS = ['"', '\\', '\r\n', '\n', '\r', '\0', '(', ')', '{5}', '{0}\r\n', '~{1}', '* ', 'a OK ', '&', '&-', '&AOk-', 'é', '\u{1F600}', ':', ',', '*', '1:*', '4294967295'];

function wellFormed(what: string, bufs: Buffer | Buffer[]): void {
  const b = Array.isArray(bufs) ? Buffer.concat(bufs) : bufs;
  const p = wireProblem(b);
  check(p === null, () => `${what}: ${p}: ${JSON.stringify(b.toString('latin1').slice(0, 300))}`);
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
  }
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
