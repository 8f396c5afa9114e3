/**
 * Extraction in a worker thread as the policy pool runs it (piscina, the
 * pool's heap cap, an empty environment): pdfjs's in-thread "fake worker"
 * must load and run there. Threads run compiled code: `npm run build` first
 * (npm test does).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtractedContent } from '../types.js';
import { DEFAULT_CONTENT_LIMITS } from './index.js';
import { allText, message, pythonFile } from './testing/make.js';

const compiled = fileURLToPath(new URL('../../../../dist/policy/dlp/extract/index.js', import.meta.url));
const CARD = '4111 1111 1111 1111';

let dir: string;
let pool: Piscina;

beforeAll(() => {
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run npm run build`);
  dir = mkdtempSync(path.join(tmpdir(), 'postern-dlp-worker-'));
  const worker = path.join(dir, 'worker.mjs');
  // A tiny task of our own (tasks.ts is the stage's): the same module the pool's dlp task will call.
  writeFileSync(
    worker,
    `import { extractContent, extractDocument } from ${JSON.stringify(pathToFileURL(compiled).href)};\n` +
      `export default (i) => i.name ? extractDocument(i.bytes, i.name, i.limits) : extractContent(i.bytes, i.limits);\n`,
  );
  pool = new Piscina({ filename: pathToFileURL(worker).href, minThreads: 1, maxThreads: 1, resourceLimits: { maxOldGenerationSizeMb: 512 }, env: {} });
});

afterAll(async () => {
  await pool?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('extraction in a policy worker thread', () => {
  it('reads a PDF attachment with pdfjs inside the thread', async () => {
    const pdf = pythonFile(
      `from reportlab.pdfgen import canvas\nc = canvas.Canvas(OUT)\nfor p in range(3):\n    c.drawString(72, 720, 'page %d card ${CARD}' % p if p == 2 else 'page %d' % p)\n    c.showPage()\nc.save()`,
      'x.pdf',
    );
    const b64 = Buffer.from(pdf).toString('base64').replace(/.{76}/g, '$&\r\n');
    const raw = message(['Subject: statement', 'Content-Type: multipart/mixed; boundary=b'], `--b\nContent-Type: text/plain\n\nsee the PDF\n--b\nContent-Type: application/pdf; name=s.pdf\nContent-Transfer-Encoding: base64\n\n${b64}\n--b--\n`);
    const viaMessage = (await pool.run({ bytes: raw, limits: DEFAULT_CONTENT_LIMITS })) as ExtractedContent;
    expect(viaMessage.findings).toEqual([]);
    expect(viaMessage.segments.find((s) => s.text.includes(`page 2 card ${CARD}`))?.source).toBe('attachment:2/s.pdf');
    // Twice more in the same thread: pdfjs's state is reused, not broken by the first document.
    for (let i = 0; i < 2; i++) {
      const doc = (await pool.run({ bytes: pdf, name: 's.pdf', limits: DEFAULT_CONTENT_LIMITS })) as ExtractedContent;
      expect(allText(doc)).toContain(`page 2 card ${CARD}`);
    }
  });
});
