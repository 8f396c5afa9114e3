/**
 * SMTP DATA post-processing (src/smtp/newlines.ts, src/smtp/headers.ts): the
 * bare CR/LF policy, NUL detection, the header-section rule and the From
 * ownership check. Inputs stay at or under 8 KiB (unownedInField is known to
 * be quadratic on long values; it is being made linear separately).
 * Promises checked: never throws; the byte scans find the first offending
 * byte; a message the policy accepts has no bare CR or LF, and normalising
 * only inserts CRs; an accepted header has a field; when the ownership check
 * passes, every address either reading finds is owned.
 */
import fc from 'fast-check';
import { parseAddressList, type MailAddress } from '../../../src/codec/mime/index.js';
import { normalizeAddress } from '../../../src/core/address.js';
import { checkHeaderSection, unownedAuthors } from '../../../src/smtp/headers.js';
import { applyNewlinePolicy, firstBareCr, firstBareLf, firstNul } from '../../../src/smtp/newlines.js';
import { anyBytes, mutatedSeeds, tokenSoup } from '../harness/mutate.js';
import { mailSeeds } from '../harness/seeds.js';
import { check, type FuzzTarget } from '../harness/types.js';

const MAX = 8 * 1024;
const OWNER = 'alice@example.org';
const SENDABLE = new Set([OWNER]);
const TOKENS = [
  '\r\n', '\n', '\r', '\r\n.\r\n', '\n.\n', '\r.\r', '\n.\r\n', '\0', 'From: ', 'From: alice@example.org\r\n', 'Sender: ', 'From: "x@evil.example" <alice@example.org>\r\n',
  'From: alice@example.org, mallory@evil.example\r\n', ' (', ')', '"', '\\', '<', '>', ',', ';', ':', 'g:', '@', 'alice@example.org', 'ALICE@EXAMPLE.ORG', ' \t', '\r\n ', 'X-A: b\r\n',
];

function reference(buf: Buffer): { cr: number; lf: number; nul: number } {
  let cr = -1;
  let lf = -1;
  for (let i = 0; i < buf.length; i++) {
    if (cr < 0 && buf[i] === 0x0d && buf[i + 1] !== 0x0a) cr = i;
    if (lf < 0 && buf[i] === 0x0a && (i === 0 || buf[i - 1] !== 0x0d)) lf = i;
  }
  return { cr, lf, nul: buf.indexOf(0) };
}

const addresses = (list: MailAddress[]): string[] => list.flatMap((a) => (a.group ? a.group.map((g) => g.address) : [a.address]));

function run(input: Uint8Array): 'ok' | 'rejected' {
  const buf = Buffer.from(input.buffer, input.byteOffset, Math.min(input.byteLength, MAX));
  const ref = reference(buf);
  check(firstBareCr(buf) === ref.cr && firstBareLf(buf) === ref.lf && firstNul(buf) === ref.nul, 'a byte scan disagrees with the reference');
  const strict = applyNewlinePolicy(buf, 'reject');
  check(strict.ok === (ref.cr < 0 && ref.lf < 0), 'reject policy verdict is wrong');
  if (strict.ok) check(strict.data.equals(buf), 'reject policy changed accepted bytes');
  else check(strict.offset === (strict.reason === 'bare-cr' ? ref.cr : ref.lf), 'reject policy names the wrong offset');
  const loose = applyNewlinePolicy(buf, 'normalize');
  check(loose.ok === ref.cr < 0, 'normalize policy verdict is wrong');
  if (!loose.ok) return 'rejected';
  const r2 = reference(loose.data);
  check(r2.cr < 0 && r2.lf < 0, 'normalised data still holds a bare CR or LF');
  check(loose.data.toString('latin1').replace(/\r\n/g, '\n') === buf.toString('latin1').replace(/\r\n/g, '\n'), 'normalising did more than insert CRs');
  const header = checkHeaderSection(loose.data);
  if (!header.ok) return 'rejected';
  check(header.fields.length > 0, 'an accepted header section has no field');
  // A plain reading of the same bytes (lines up to the first empty one) must see the same From fields.
  const text = loose.data.toString('latin1');
  const blank = text.indexOf('\r\n\r\n');
  const lines = (blank < 0 ? text : text.slice(0, blank)).split('\r\n');
  const froms = lines.filter((l) => /^from[ \t]*:/i.test(l)).length;
  check(froms === header.fields.filter((f) => f.name.toLowerCase() === 'from').length, 'the header parser and a plain line reading count different From fields');
  const bad = unownedAuthors(header.fields, SENDABLE);
  if (bad === 'missing' || bad.length > 0) return 'rejected';
  for (const f of header.fields.filter((x) => /^(from|sender)$/i.test(x.name))) {
    for (const a of addresses(parseAddressList(f.value))) check(normalizeAddress(a) === OWNER, `${JSON.stringify(a)} passed the ownership check`);
  }
  return ref.nul >= 0 ? 'rejected' : 'ok';
}

const seeds = (): Uint8Array[] => [
  ...mailSeeds(MAX),
  Buffer.from('From: alice@example.org\r\nTo: bob@example.net\r\nSubject: hi\r\n\r\nbody\r\n.\r\n', 'latin1'),
  Buffer.from('From: Alice <alice@example.org>\r\nSender: alice@example.org\r\n\r\nx', 'latin1'),
];

export const smtpData: FuzzTarget = {
  name: 'smtp-data',
  seeds,
  arbitrary: fc.oneof(
    { weight: 5, arbitrary: mutatedSeeds(seeds(), { dictionary: TOKENS, maxBytes: MAX, maxRepeat: MAX }) },
    { weight: 3, arbitrary: tokenSoup(TOKENS, 80) },
    { weight: 1, arbitrary: anyBytes(MAX / 4) },
  ),
  run,
};
