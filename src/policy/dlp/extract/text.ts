/**
 * Plain text files by their bytes: whether bytes are text at all (no NULs,
 * few control characters; a UTF-16 BOM counts), and their decoding — a BOM
 * first, then the declared charset, then UTF-8 when valid, else
 * windows-1252 (what unlabelled Western text usually is).
 */
import { decodeCharset, decodeCp1252 } from '../../../codec/mime/index.js';

const SAMPLE = 8192;

function hasBom16(b: Uint8Array): boolean {
  return b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff));
}

/** True when the bytes read as text: no NUL and under 5% control characters in the first 8 KiB. */
export function looksLikeText(b: Uint8Array): boolean {
  if (hasBom16(b)) return true;
  const n = Math.min(b.length, SAMPLE);
  let controls = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0) return false;
    // Tab, LF, FF, CR and ESC (ISO-2022 shifts) are text.
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d && c !== 0x1b) controls++;
  }
  return controls * 20 <= n;
}

/** Text in `charset` (windows-1252 and its aliases decoded by the codec, "€" and curly quotes included). */
export function decodeIn(b: Uint8Array, charset: string): string {
  return decodeCharset(b, charset);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeText(b: Uint8Array, charset: string | null): string {
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return decodeCharset(b.subarray(3), 'utf-8');
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return decodeCharset(b.subarray(2), 'utf-16le');
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return decodeCharset(b.subarray(2), 'utf-16be');
  if (charset) return decodeIn(b, charset);
  try {
    return strictUtf8.decode(b);
  } catch {
    return decodeCp1252(b);
  }
}

/** True when decoded text looks like HTML (a doctype, <html>, or <body> near the start). */
export function looksLikeHtml(text: string): boolean {
  const head = text.slice(0, 1024).trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html') || head.includes('<body');
}
