import fc from 'fast-check';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { ExtractedContent } from '../types.js';
import { htmlToText } from '../../../codec/mime/index.js';
import { DEFAULT_CONTENT_LIMITS, extractContent, extractDocument } from './index.js';
import { readXml } from './xml.js';

const L = { ...DEFAULT_CONTENT_LIMITS, maxTextChars: 100_000 };

/** What every result must be, whatever the input. */
function wellFormed(c: ExtractedContent): void {
  expect(c.chars).toBe(c.segments.reduce((n, s) => n + s.text.length, 0));
  expect(c.chars).toBeLessThanOrEqual(L.maxTextChars);
  for (const s of [...c.segments.map((x) => x.source), ...c.findings.map((f) => f.part), ...c.findings.map((f) => f.detail)]) {
    expect(s.length).toBeLessThanOrEqual(200);
    expect(s).toMatch(/^[\x20-\x7e]*$/);
  }
  expect(c.headers.length).toBeLessThanOrEqual(200);
}

const docx = zipSync({
  'word/document.xml': strToU8('<w:document><w:body><w:p><w:r><w:t>hello 4111 1111 1111 1111</w:t></w:r></w:p></w:body></w:document>'),
  'inner.zip': zipSync({ 'a.txt': strToU8('inner') }),
});
const seeds = [
  docx,
  zipSync({ 'a.txt': strToU8('plain text'), 'b.zip': zipSync({ 'c.txt': strToU8('nested') }) }),
  strToU8('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF'),
  strToU8('Subject: =?utf-8?B?aGk=?=\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>a&amp;b</p>\r\n--x--\r\n'),
];

describe('extraction never throws', () => {
  it('on random bytes, as a message and as a file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.constantFrom('x.bin', 'x.eml', 'x.pdf', 'x.docx', 'x.txt'), async (bytes, name) => {
        wellFormed(await extractContent(bytes, L));
        wellFormed(await extractDocument(bytes, name, L));
      }),
      { numRuns: 200 },
    );
  });

  it('on damaged archives, office files, PDFs and messages', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        async (seed, flips, cut) => {
          const b = seed.slice(0, seed.length - (cut % 4 === 0 ? cut % seed.length : 0));
          for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
          wellFormed(await extractDocument(b, 'x', L));
          wellFormed(await extractContent(b, L));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('on random limits (held to sane ranges)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('maxArchiveDepth', 'maxTotalBytes', 'maxRatio', 'maxEntries', 'maxTextChars', 'maxPdfPages'), fc.oneof(fc.integer(), fc.double(), fc.string())), async (lim) => {
        const c = await extractDocument(seeds[1]!, 'x.zip', lim as never);
        expect(c.chars).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 50 },
    );
  });
});

describe('markup readers stay linear on hostile input', () => {
  // Each of these is quadratic for a reader that searches again from every position; a hang fails the test by its timeout.
  const hostile = ['<'.repeat(200_000), '&'.repeat(200_000), '<a b="'.repeat(50_000), `<p>${'x'.repeat(10)}</p>`.repeat(30_000), '<!--'.repeat(50_000), `${'<b>'.repeat(100_000)}&amp;`];
  it('readXml and htmlToText finish and keep text', () => {
    for (const h of hostile) {
      let n = 0;
      readXml(h, { open: () => undefined, close: () => undefined, text: (s) => void (n += s.length), done: () => false });
      expect(n).toBeGreaterThanOrEqual(0);
      expect(htmlToText(h, 1_000_000).length).toBeLessThanOrEqual(1_000_000);
    }
    expect(htmlToText(`${'<b>'.repeat(100_000)}&amp;`, 100)).toBe('&');
  });
});
