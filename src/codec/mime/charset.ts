/**
 * Charset conversion through the WHATWG TextDecoder (Node with full ICU knows the
 * common mail charsets, ISO-2022-JP and KOI8-R included). Unknown or unsupported
 * labels fall back to latin1, so a bad label never loses bytes or throws.
 * windows-1252 (the WHATWG target of latin1, ISO-8859-1 and ASCII labels) is
 * decoded here: Node 20's TextDecoder reads it as ISO-8859-1, so 0x80..0x9F
 * became C1 controls and "€", curly quotes and dashes were lost.
 */
import { TextDecoder } from 'node:util';
import { latin1 } from './bytes.js';

// Mail names the WHATWG label list does not know.
const ALIASES: Record<string, string> = {
  cp932: 'shift_jis',
  'windows-31j': 'shift_jis',
  cp936: 'gbk',
  cp949: 'euc-kr',
  ks_c_5601: 'euc-kr',
  utf8mb4: 'utf-8',
};

const MAX_CACHED = 64;
const decoders = new Map<string, TextDecoder | null>();

/** Lower-cases a charset label and drops quotes and an RFC 2231 `*language` suffix. */
export function normalizeCharset(label: string): string {
  let s = label.trim().toLowerCase();
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) s = s.slice(1, -1).trim();
  const star = s.indexOf('*');
  if (star >= 0) s = s.slice(0, star);
  return ALIASES[s] ?? s;
}

function decoderFor(label: string): TextDecoder | null {
  const cached = decoders.get(label);
  if (cached !== undefined) return cached;
  let d: TextDecoder | null = null;
  if (label.length > 0 && label.length <= 64) {
    try {
      d = new TextDecoder(label, { fatal: false });
    } catch {
      d = null;
    }
  }
  if (decoders.size >= MAX_CACHED) decoders.clear();
  decoders.set(label, d);
  return d;
}

/** True when `label` names a charset this runtime can decode. */
export function isKnownCharset(label: string): boolean {
  return decoderFor(normalizeCharset(label)) !== null;
}

/** 0x80..0x9F of windows-1252 (its five undefined positions stay as their C1 code). */
const CP1252_HIGH = '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ';

/** windows-1252: latin1 except 0x80..0x9F. */
export function decodeCp1252(b: Uint8Array): string {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x80 && c <= 0x9f) {
      if (i > from) parts.push(latin1(b.subarray(from, i)));
      parts.push(CP1252_HIGH[c - 0x80]!);
      from = i + 1;
    }
  }
  if (from < b.length) parts.push(latin1(b.subarray(from)));
  return parts.join('');
}

/** Decodes bytes in `charset` (UTF-8 when absent); unknown charsets read as latin1. */
export function decodeCharset(bytes: Uint8Array, charset?: string | null): string {
  const d = decoderFor(normalizeCharset(charset ?? 'utf-8'));
  if (!d) return latin1(bytes);
  if (d.encoding === 'windows-1252') return decodeCp1252(bytes);
  try {
    return d.decode(bytes);
  } catch {
    return latin1(bytes);
  }
}
