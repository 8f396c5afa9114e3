/**
 * DLP content extraction: a message or a single file → decoded text
 * segments and findings, under one set of limits. Runs in the policy worker
 * pool (it decodes untrusted content). Never throws on bad input: what
 * cannot be read is a finding ('unreadable', 'encrypted', 'archive-limit',
 * 'truncated', 'encrypted-message').
 */
import type { ContentLimits, ExtractedContent } from '../types.js';
import { Collector, printable } from './collector.js';
import { extractFile } from './document.js';
import { contentLimitsFrom } from './limits.js';
import { messageReader, walkMessage, type MessageHeaders } from './message.js';
import { looksLikeText } from './text.js';

export { DEFAULT_CONTENT_LIMITS, contentLimitsFrom } from './limits.js';

function result(c: Collector, h: MessageHeaders): ExtractedContent {
  return { headers: h.headers, subject: h.subject, segments: c.segments, findings: c.findings, chars: c.chars };
}

function failed(c: Collector, h: MessageHeaders, part: string, e: unknown): ExtractedContent {
  // A defect of ours, not of the input: reported as a finding so the message is still classified on what was read.
  c.find('unreadable', part, `extraction failed: ${String((e as { message?: unknown })?.message ?? e)}`);
  return result(c, h);
}

/** The text of a whole RFC 5322 message: header fields, subject, bodies and attachments. */
export async function extractContent(raw: Uint8Array, limits: ContentLimits): Promise<ExtractedContent> {
  const c = new Collector(contentLimitsFrom(limits));
  let h: MessageHeaders = { headers: [], subject: '' };
  try {
    h = await walkMessage(c, raw);
    return result(c, h);
  } catch (e) {
    return failed(c, h, 'message', e);
  }
}

/** The text of one file (txt, html, docx, xlsx, pptx, odt, pdf, zip, gz, eml), recognised by its bytes. */
export async function extractDocument(bytes: Uint8Array, filename: string, limits: ContentLimits): Promise<ExtractedContent> {
  // A message file is read as a message: its header fields and subject are the result's.
  if (/\.eml$/i.test(filename) && looksLikeText(bytes)) return extractContent(bytes, limits);
  const c = new Collector(contentLimitsFrom(limits));
  const source = `attachment:${printable(filename, 180) || 'file'}`;
  const none: MessageHeaders = { headers: [], subject: '' };
  try {
    await extractFile(c, { bytes, name: filename, declaredType: null, charset: null, source, kind: 'attachment', archiveDepth: 0 }, messageReader(c));
    return result(c, none);
  } catch (e) {
    return failed(c, none, source, e);
  }
}
