import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAddressList } from './address.js';
import { decodeEncodedWords, encodeEncodedWords } from './encoded-word.js';
import { buildBodyStructure, buildEnvelope } from './imap-structure.js';
import { parseMessage } from './parse.js';
import { checkMessage } from './sanity.js';
import { fetchSection, listParts, type SectionText } from './sections.js';
import { rebuild, text } from './testing/corpus.js';
import { decodeBase64, decodeQuotedPrintable } from './transfer.js';
import type { MimeMessage, MimePart } from './types.js';

// Pieces that steer random input into the interesting paths of the parser.
const PIECES = [
  '\r\n', '\n', '\r', ' ', '\t', ':', '--', '--a', '--a--', '--b', '"', ';', '=?utf-8?q?x?=',
  'Content-Type: multipart/mixed; boundary=a\r\n', 'Content-Type: multipart/digest; boundary="b"\n',
  'Content-Type: message/rfc822\r\n', 'Content-Type: text/plain\n', 'From: a@b.c\n', 'X:', '\r\n\r\n', '\n\n', '\0', '\xff',
];
const mimeish = fc
  .array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 8 })), { maxLength: 80 })
  .map((xs) => Buffer.from(xs.join(''), 'latin1'));
const input = fc.oneof(mimeish, fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u)));
const TEXTS: Array<SectionText | undefined> = [undefined, 'HEADER', 'TEXT', 'MIME', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT'];

describe('robustness on arbitrary bytes', () => {
  it('never throws, rebuilds the input and serves every section', () => {
    fc.assert(
      fc.property(input, (buf) => {
        const msg = parseMessage(buf, { maxDepth: 6, maxParts: 40 });
        expect(rebuild(msg, msg.root).equals(buf)).toBe(true);
        expect(msg.partCount).toBeLessThanOrEqual(40);
        buildBodyStructure(msg.root);
        buildEnvelope(msg.root);
        checkMessage(buf);
        for (const { number } of listParts(msg)) {
          for (const t of TEXTS) fetchSection(msg, { part: number, text: t, fields: ['From'] });
        }
        for (const f of msg.root.header.fields) parseAddressList(f.value);
      }),
      { numRuns: 600 },
    );
  });

  it('decoders never throw and never grow their input', () => {
    fc.assert(
      fc.property(input, (buf) => {
        expect(decodeBase64(buf).length).toBeLessThanOrEqual(buf.length);
        expect(decodeQuotedPrintable(buf).length).toBeLessThanOrEqual(buf.length);
        decodeEncodedWords(buf.toString('latin1'));
      }),
      { numRuns: 300 },
    );
  });
});

type Node =
  | { kind: 'leaf'; type: string; lines: string[] }
  | { kind: 'multi'; subtype: string; boundary: string; preamble: string | null; epilogue: string | null; children: Node[] }
  | { kind: 'message'; inner: Node };

// Lines of content never start with "--"; boundaries use RFC 2046 bcharsnospace.
const line = fc.stringMatching(/^[A-Za-z0-9 .,:;=?'()+_/-]{0,30}$/).map((s) => `L${s}`);
// A few short shared values make nested multiparts reuse or extend each other's boundary.
const boundary = fc.oneof(fc.constantFrom('a', 'a-', 'a--', 'ab', '=_a'), fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,40}$/));
const { node } = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('leaf' as const), type: fc.constantFrom('text/plain', 'application/octet-stream', 'image/png', 'text/html'), lines: fc.array(line, { maxLength: 4 }) }),
    fc.record({
      kind: fc.constant('multi' as const),
      subtype: fc.constantFrom('mixed', 'alternative', 'related'),
      boundary,
      preamble: fc.option(line, { nil: null }),
      epilogue: fc.option(line, { nil: null }),
      children: fc.array(tie('node'), { minLength: 1, maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('message' as const), inner: tie('node') }),
  ),
}));

function render(n: Node, eol: string): string {
  if (n.kind === 'leaf') return `Content-Type: ${n.type}${eol}${eol}${n.lines.join(eol)}`;
  if (n.kind === 'message') return `Content-Type: message/rfc822${eol}${eol}From: a@example.org${eol}${render(n.inner, eol)}`;
  let s = `Content-Type: multipart/${n.subtype};${eol}\tboundary="${n.boundary}"${eol}${eol}`;
  if (n.preamble !== null) s += n.preamble + eol;
  for (const c of n.children) s += `--${n.boundary}${eol}${render(c, eol)}${eol}`;
  s += `--${n.boundary}--`;
  if (n.epilogue !== null) s += eol + n.epilogue;
  return s;
}

function same(msg: MimeMessage, p: MimePart, n: Node, eol: string): void {
  if (n.kind === 'leaf') {
    expect(`${p.contentType.type}/${p.contentType.subtype}`).toBe(n.type);
    expect(text(msg, p.bodyStart, p.bodyEnd)).toBe(n.lines.join(eol));
    return;
  }
  if (n.kind === 'message') {
    expect(p.contentType.subtype).toBe('rfc822');
    expect(p.message).not.toBeNull();
    same(msg, p.message!, n.inner, eol);
    return;
  }
  expect(p.contentType.subtype).toBe(n.subtype);
  expect(p.multipart).toMatchObject({ boundary: n.boundary, closed: true });
  const range = (r: { start: number; end: number } | null): string | null => (r ? text(msg, r.start, r.end) : null);
  expect(range(p.multipart!.preamble)).toBe(n.preamble);
  expect(range(p.multipart!.epilogue)).toBe(n.epilogue);
  expect(p.children.length).toBe(n.children.length);
  n.children.forEach((c, i) => same(msg, p.children[i]!, c, eol));
}

describe('generated multipart trees', () => {
  it('parse back to the structure they were built from', () => {
    fc.assert(
      fc.property(node, fc.constantFrom('\r\n', '\n'), (tree, eol) => {
        const msg = parseMessage(Buffer.from(render(tree, eol), 'latin1'));
        same(msg, msg.root, tree, eol);
        expect(msg.root.defects.filter((d) => d.code !== 'header-no-separator')).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });
});

describe('encoded words', () => {
  it('decode(encode(s)) is s for any text, in B and Q', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('B' as const, 'Q' as const), (s, mode) => {
        const enc = encodeEncodedWords(s, mode);
        expect(enc).toMatch(/^[\x20-\x7e]*$/);
        expect(decodeEncodedWords(enc)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});
