/**
 * MIME structure: parseMessage and everything IMAP FETCH and intake build on
 * it. Promises checked: never throws; offsets in range and nested; the tree
 * rebuilds the input byte for byte; limits hold; every listed part is found
 * again by its number; sections and decoders stay within their bounds.
 */
import {
  buildBodyStructure,
  buildEnvelope,
  checkMessage,
  decodePartBody,
  decodePartText,
  fetchSection,
  findPart,
  headerFields,
  listParts,
  parseHeaderSection,
  parseMessage,
  type MimeMessage,
  type MimePart,
  type SectionText,
} from '../../../src/codec/mime/index.js';
import { rebuild } from '../../../src/codec/mime/testing/corpus.js';
import fc from 'fast-check';
import { anyBytes, mutatedSeeds, nested, tokenSoup } from '../harness/mutate.js';
import { mailSeeds } from '../harness/seeds.js';
import { check, type FuzzTarget } from '../harness/types.js';

const TOKENS = [
  '\r\n', '\n', '--', '--a', '--a--', '--b\r\n', '--=_x--', 'Content-Type: multipart/mixed; boundary=a\r\n', 'Content-Type: multipart/digest; boundary="b"\n',
  'Content-Type: message/rfc822\r\n', 'Content-Type: message/global\n', 'Content-Transfer-Encoding: base64\r\n', 'Content-Transfer-Encoding: quoted-printable\n',
  'Content-Type: text/plain; charset*0*=utf-8\'\'%E2%82; charset*1*=%AC\r\n', 'Content-Disposition: attachment; filename*=iso-8859-1\'en\'%A3\r\n',
  'From: "a (b)" <a@b.c>, g: x@y, z@w;\n', 'Subject: =?utf-8?B?w6k=?= =?iso-2022-jp?q?=1B$B?=\r\n', 'X:', ' \t', '\r\n\r\n', '\n\n', '\0', '\xff', '=?', '?=', '=\r\n', '=4', '==',
];
const SMALL = { maxDepth: 6, maxParts: 40, maxHeaderBytes: 4096, maxHeaderFields: 50 };
const TEXTS: Array<SectionText | undefined> = [undefined, 'HEADER', 'TEXT', 'MIME', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT'];

function checkPart(msg: MimeMessage, p: MimePart, lo: number, hi: number, maxDepth: number): void {
  const where = `part at ${p.headerStart}`;
  check(lo <= p.headerStart && p.headerStart <= p.bodyStart && p.bodyStart <= p.bodyEnd && p.bodyEnd <= hi, () => `${where}: offsets ${p.headerStart}/${p.bodyStart}/${p.bodyEnd} outside [${lo}, ${hi}]`);
  check(p.depth <= maxDepth, `${where}: depth ${p.depth} over the limit ${maxDepth}`);
  const h = p.header;
  check(h.start === p.headerStart && h.end <= h.bodyStart && h.bodyStart === p.bodyStart, `${where}: header range disagrees with the part`);
  let prev = h.start;
  for (const f of h.fields) {
    check(f.start >= prev && f.end > f.start && f.end <= h.end, `${where}: field ${JSON.stringify(f.name.slice(0, 40))} at ${f.start}..${f.end} out of order or range`);
    check(f.raw.length === f.end - f.start, `${where}: field raw length differs from its range`);
    prev = f.end;
  }
  for (const d of p.defects) check(d.offset >= 0 && d.offset <= msg.buf.length, `${where}: defect ${d.code} offset ${d.offset} out of range`);
  let last = p.bodyStart;
  for (const c of p.children) {
    check(c.headerStart >= last, `${where}: children overlap or are out of order`);
    checkPart(msg, c, p.bodyStart, p.bodyEnd, maxDepth);
    last = c.bodyEnd;
  }
  if (p.message) checkPart(msg, p.message, p.bodyStart, p.bodyEnd, maxDepth);
}

function checkTree(buf: Buffer, limits: { maxDepth?: number; maxParts?: number }): MimeMessage {
  const msg = parseMessage(buf, limits);
  const maxDepth = limits.maxDepth ?? 32;
  check(msg.partCount <= (limits.maxParts ?? 1000), `${msg.partCount} parts, over the limit`);
  checkPart(msg, msg.root, 0, buf.length, maxDepth);
  check(msg.root.bodyEnd === buf.length, `root ends at ${msg.root.bodyEnd}, input has ${buf.length} bytes`);
  let again: Buffer;
  try {
    again = rebuild(msg, msg.root);
  } catch (e) {
    check(false, `tree does not rebuild: ${(e as Error).message.slice(0, 200)}`);
  }
  check(again.equals(buf), 'tree rebuilds to different bytes');
  return msg;
}

function run(input: Uint8Array): 'ok' | 'rejected' {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const msg = checkTree(buf, {});
  checkTree(buf, SMALL);
  const header = parseHeaderSection(buf);
  check(header.fields.length === msg.root.header.fields.length, 'parseHeaderSection and parseMessage disagree on the root header');
  const parts = listParts(msg);
  for (const { number, part } of parts.slice(0, 200)) {
    check(findPart(msg, number) === part, `findPart(${number}) is not the part listParts numbered so`);
    for (const text of TEXTS) {
      const s = fetchSection(msg, { part: number, text, fields: ['From', 'Subject', 'Content-Type'] });
      if (s === null) continue;
      check(s.length <= buf.length + 4, `BODY[${number}${text ? '.' + text : ''}] is ${s.length} bytes, more than the message`);
    }
    const cap = 1000;
    const decoded = decodePartBody(msg, part, cap);
    check(decoded.length <= Math.min(cap, part.bodyEnd - part.bodyStart), `decoded body of ${number} is ${decoded.length} bytes, over its cap or its source`);
    decodePartText(msg, part, cap);
  }
  // HEADER.FIELDS is assembled from raw fields: it must read back as exactly those fields.
  const names = [...new Set(msg.root.header.fields.slice(0, 3).map((f) => f.name))];
  const picked = parseHeaderSection(headerFields(msg, msg.root, names));
  const want = msg.root.header.fields.filter((f) => names.some((n) => n.toLowerCase() === f.name.toLowerCase()));
  check(picked.fields.length === want.length && picked.fields.every((f, i) => f.name === want[i]!.name && f.value === want[i]!.value), 'HEADER.FIELDS does not read back as the fields it selected');
  buildEnvelope(msg.root);
  buildBodyStructure(msg.root);
  for (const p of checkMessage(buf)) check(p.offset >= 0 && p.offset <= buf.length, `checkMessage offset ${p.offset} for ${p.code} out of range`);
  return msg.root.defects.length > 0 ? 'rejected' : 'ok';
}

export const mime: FuzzTarget = {
  name: 'mime',
  seeds: () => mailSeeds(),
  arbitrary: fc.oneof(
    { weight: 6, arbitrary: mutatedSeeds(mailSeeds(64 * 1024), { dictionary: TOKENS, maxBytes: 256 * 1024, maxRepeat: 80_000 }) },
    { weight: 2, arbitrary: tokenSoup(TOKENS) },
    { weight: 1, arbitrary: nested('Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n', 'x', '\r\n--a--\r\n', 3000) },
    { weight: 1, arbitrary: nested('Content-Type: message/rfc822\r\n\r\n', 'Subject: x\r\n\r\nbody', '', 3000) },
    { weight: 1, arbitrary: anyBytes(4096) },
  ),
  run,
};
