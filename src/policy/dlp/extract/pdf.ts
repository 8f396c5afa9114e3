/**
 * PDF text through a real PDF engine (pdfjs-dist, legacy build for Node),
 * loaded on first use so a thread that never sees a PDF never pays for it.
 * pdfjs runs its "worker" in the calling thread here (fake worker): we are
 * already in a policy worker thread, under the pool's time budget. No eval,
 * no fonts, no system fonts; predefined CMaps come from the package so CJK
 * text decodes. Pages past limits.maxPdfPages are not read ('truncated');
 * a password → 'encrypted'; anything else that fails → 'unreadable'.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Collector } from './collector.js';

type Pdfjs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjs: Promise<Pdfjs> | null = null;
let cMapUrl: string | undefined;

function engine(): Promise<Pdfjs> {
  if (!pdfjs) {
    try {
      const dir = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
      cMapUrl = pathToFileURL(path.join(dir, 'cmaps') + path.sep).href;
    } catch {
      cMapUrl = undefined;
    }
    pdfjs = import('pdfjs-dist/legacy/build/pdf.mjs');
  }
  return pdfjs;
}

/** True when the bytes start like a PDF (%PDF- within the first KiB, as readers accept). */
export function looksLikePdf(b: Uint8Array): boolean {
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 1024));
  return head.indexOf('%PDF-') >= 0;
}

interface TextItemLike {
  readonly str?: string;
  readonly hasEOL?: boolean;
}

/** The text of a PDF, at most the collector's room plus one character (null with a finding when it cannot be read). */
export async function pdfText(c: Collector, bytes: Uint8Array, source: string): Promise<string | null> {
  const max = c.room + 1;
  let lib: Pdfjs;
  try {
    lib = await engine();
  } catch (e) {
    c.find('unreadable', source, `the PDF engine did not load: ${(e as Error).message}`);
    return null;
  }
  // pdfjs may take the buffer over: give it a copy, never a view of the message.
  const task = lib.getDocument({
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    verbosity: 0,
    isOffscreenCanvasSupported: false,
    ...(cMapUrl ? { cMapUrl, cMapPacked: true } : {}),
  });
  const parts: string[] = [];
  let len = 0;
  try {
    const doc = await task.promise;
    const pages = Math.min(doc.numPages, c.limits.maxPdfPages);
    for (let p = 1; p <= pages && len < max; p++) {
      const page = await doc.getPage(p);
      const content = await page.getTextContent();
      for (const it of content.items as TextItemLike[]) {
        const s = (it.str ?? '') + (it.hasEOL ? '\n' : '');
        parts.push(s);
        len += s.length;
      }
      parts.push('\n');
      len++;
      page.cleanup();
    }
    if (doc.numPages > pages && len < max) c.find('truncated', source, `only the first ${pages} of ${doc.numPages} PDF pages were read`);
  } catch (e) {
    const name = (e as { name?: unknown }).name;
    if (name === 'PasswordException') c.find('encrypted', source, 'a password-protected PDF');
    else c.find('unreadable', source, `PDF: ${String((e as { message?: unknown }).message ?? e)}`);
    if (parts.length === 0) {
      await task.destroy().catch(() => undefined);
      return null;
    }
  }
  await task.destroy().catch(() => undefined);
  const text = parts.join('');
  return text.length > max ? text.slice(0, max) : text;
}
