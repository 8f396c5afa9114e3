/**
 * RFC 2047 encoded-words. Decoding is lenient the way mail readers are: words
 * inside quoted strings and words glued to other text are decoded too. Adjacent
 * words in one charset are joined as bytes before conversion, because senders
 * split multi-byte characters (and ISO-2022 escape sequences) across words.
 */
import { decodeCharset, normalizeCharset } from './charset.js';
import { decodeBase64 } from './transfer.js';

const WORD = /=\?([^?\s]{1,64})\?([bBqQ])\?([^?\r\n]*)\?=/g;

function qBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) out.push(0x20);
    else if (c === 0x3d && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) out.push(c);
    else for (const b of Buffer.from(text[i]!, 'utf8')) out.push(b);
  }
  return Uint8Array.from(out);
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

/** Replaces every encoded-word in `text` with its decoded characters. Never throws. */
export function decodeEncodedWords(text: string): string {
  if (!text.includes('=?')) return text;
  let out = '';
  let last = 0;
  let pendingCharset: string | null = null;
  let chunks: Uint8Array[] = [];
  const flush = (): void => {
    if (pendingCharset !== null) out += decodeCharset(Buffer.concat(chunks), pendingCharset);
    pendingCharset = null;
    chunks = [];
  };
  WORD.lastIndex = 0;
  for (let m = WORD.exec(text); m; m = WORD.exec(text)) {
    const between = text.slice(last, m.index);
    // White space between two encoded-words is not part of the text (RFC 2047 section 6.2).
    if (pendingCharset === null || !isBlank(between)) {
      flush();
      out += between;
    }
    const charset = normalizeCharset(m[1]!);
    const data = m[3]!;
    const bytes = m[2] === 'b' || m[2] === 'B' ? decodeBase64(Buffer.from(data, 'latin1')) : qBytes(data);
    if (pendingCharset !== charset) flush();
    pendingCharset = charset;
    chunks.push(bytes);
    last = m.index + m[0].length;
  }
  flush();
  return out + text.slice(last);
}

/** True when `text` cannot go into a header as it is. */
export function needsEncoding(text: string): boolean {
  return /[^\x20-\x7e]/.test(text) || text.includes('=?');
}

const Q_SAFE = /[A-Za-z0-9!*+\-/]/;
const MAX_WORD_BYTES_B = 45; // 60 base64 chars: the word stays within 75 (RFC 2047 section 2)
const MAX_WORD_CHARS_Q = 63;

function qEncode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (b === 0x20) s += '_';
    else if (b < 0x80 && Q_SAFE.test(ch)) s += ch;
    else s += '=' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return s;
}

/**
 * Encodes `text` as UTF-8 encoded-words separated by single spaces, or returns it
 * unchanged when it needs no encoding. Characters are never split across words.
 */
export function encodeEncodedWords(text: string, mode: 'B' | 'Q' = 'B'): string {
  if (!needsEncoding(text)) return text;
  const words: string[] = [];
  let cur: number[] = [];
  let curLen = 0;
  const push = (): void => {
    if (cur.length === 0) return;
    const bytes = Uint8Array.from(cur);
    words.push(`=?UTF-8?${mode}?${mode === 'B' ? Buffer.from(bytes).toString('base64') : qEncode(bytes)}?=`);
    cur = [];
    curLen = 0;
  };
  for (const ch of text) {
    const bytes = Buffer.from(ch, 'utf8');
    const len = mode === 'B' ? bytes.length : qEncode(bytes).length;
    if (curLen + len > (mode === 'B' ? MAX_WORD_BYTES_B : MAX_WORD_CHARS_Q)) push();
    for (const b of bytes) cur.push(b);
    curLen += len;
  }
  push();
  return words.join(' ');
}
