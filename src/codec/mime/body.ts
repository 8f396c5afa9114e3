/** Decoded content of a parsed part: transfer encoding undone, text converted. */
import { decodeCharset } from './charset.js';
import { paramValue } from './params.js';
import { decodeTransfer } from './transfer.js';
import type { MimeMessage, MimePart } from './types.js';

/** The part's body with its Content-Transfer-Encoding undone (at most `maxOutput` bytes). */
export function decodePartBody(msg: MimeMessage, part: MimePart, maxOutput = Infinity): Uint8Array {
  return decodeTransfer(msg.buf.subarray(part.bodyStart, part.bodyEnd), part.transferEncoding, maxOutput);
}

/** The part's body as text, in its declared charset (US-ASCII, read as UTF-8, when none). */
export function decodePartText(msg: MimeMessage, part: MimePart, maxOutput = Infinity): string {
  return decodeCharset(decodePartBody(msg, part, maxOutput), paramValue(part.contentType.params, 'charset') ?? 'utf-8');
}
