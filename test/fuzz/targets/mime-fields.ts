/**
 * Header field values: Content-Type/Disposition parameters (RFC 2045, 2231),
 * address lists (RFC 5322), encoded words (RFC 2047) and charsets. Promises
 * checked: never throws, linear enough on hostile values, encoded words round
 * trip, formatted addresses contain no line breaks.
 */
import fc from 'fast-check';
import {
  decodeCharset,
  decodeEncodedWords,
  encodeEncodedWords,
  imapAddresses,
  parseAddressList,
  parseHeaderSection,
  parseStructuredValue,
} from '../../../src/codec/mime/index.js';
import { mutatedSeeds, nested, tokenSoup } from '../harness/mutate.js';
import { mailSeeds } from '../harness/seeds.js';
import { check, type FuzzTarget } from '../harness/types.js';

const TOKENS = [
  ' ', '\t', '\r\n ', '"', '\\', '(', ')', '<', '>', '@', ',', ';', ':', '.', '[', ']', '=', '*', "'", '%', '%E2', '*0*=', '*1=', 'charset=',
  'boundary=', 'filename*=utf-8\'\'', '=?utf-8?q?', '=?UTF-8?B?', '=?iso-2022-jp?B?GyRC', '=?x-unknown?q?a?=', '?=', 'a@b.c', 'Group:', 'x', 'é',
];

/** The field values of the seed messages, one "value" per seed. */
function fieldSeeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of mailSeeds(256 * 1024)) {
    for (const f of parseHeaderSection(m).fields) out.push(Buffer.from(f.value, 'utf8'));
  }
  const seen = new Set<string>();
  return out.filter((b) => {
    const k = Buffer.from(b).toString('latin1');
    if (seen.has(k) || b.length > 8192) return false;
    seen.add(k);
    return true;
  });
}

let cached: Uint8Array[] | null = null;
const seeds = (): Uint8Array[] => (cached ??= fieldSeeds());

function run(input: Uint8Array): 'ok' | 'rejected' {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  for (const value of [buf.toString('latin1'), buf.toString('utf8')]) {
    const sv = parseStructuredValue(value);
    check(sv.params.length <= 256, `${sv.params.length} parameters, over the limit`);
    // The same text where it most often sits: as a parameter value.
    parseStructuredValue(`application/octet-stream; name=${value}`);
    // Field values come unfolded: a line break in an address can only come from the value itself.
    const breaks = /[\r\n]/.test(value);
    for (const a of parseAddressList(value)) {
      check(breaks || !/[\r\n]/.test(a.address), 'an address came back with a line break');
      for (const g of a.group ?? []) check(breaks || !/[\r\n]/.test(g.address), 'a group member came back with a line break');
    }
    imapAddresses(value);
    decodeEncodedWords(value);
  }
  // Header values are UTF-8 or latin1 text without lone surrogates: encoding must round trip (a prefix: this
  // is output code, and its cost would hide the parsers').
  const text = buf.toString('latin1', 0, Math.min(buf.length, 16 * 1024));
  for (const mode of ['B', 'Q'] as const) {
    const enc = encodeEncodedWords(text, mode);
    check(/^[\x20-\x7e]*$/.test(enc), `encodeEncodedWords(${mode}) wrote a byte outside printable ASCII`);
    check(decodeEncodedWords(enc) === text, `encodeEncodedWords(${mode}) does not decode back`);
  }
  decodeCharset(buf, buf.subarray(0, 24).toString('latin1'));
  return 'ok';
}

export const mimeFields: FuzzTarget = {
  name: 'mime-fields',
  seeds,
  arbitrary: fc.oneof(
    { weight: 5, arbitrary: mutatedSeeds(seeds(), { dictionary: TOKENS, maxBytes: 256 * 1024, maxRepeat: 120_000 }) },
    { weight: 3, arbitrary: tokenSoup(TOKENS, 200) },
    { weight: 1, arbitrary: nested('(', 'x', ')', 5000) },
    { weight: 1, arbitrary: nested('a*', '=b', '', 3000) },
  ),
  run,
};
