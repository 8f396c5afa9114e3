/**
 * Charset conversion through the WHATWG TextDecoder (Node with full ICU knows the
 * common mail charsets, ISO-2022-JP and KOI8-R included). Unknown or unsupported
 * labels fall back to latin1, so a bad label never loses bytes or throws.
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

/** Decodes bytes in `charset` (UTF-8 when absent); unknown charsets read as latin1. */
export function decodeCharset(bytes: Uint8Array, charset?: string | null): string {
  const d = decoderFor(normalizeCharset(charset ?? 'utf-8'));
  if (!d) return latin1(bytes);
  try {
    return d.decode(bytes);
  } catch {
    return latin1(bytes);
  }
}
