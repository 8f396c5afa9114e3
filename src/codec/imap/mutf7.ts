/**
 * Modified UTF-7 for mailbox names (RFC 3501 section 5.1.3), used with IMAP4rev1
 * clients that have not enabled UTF-8 (RFC 9051 / RFC 6855).
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

function isDirect(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

function encodeRun(units: number[]): string {
  const bytes: number[] = [];
  for (const u of units) bytes.push(u >> 8, u & 0xff);
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    out += B64[b0 >> 2]!;
    out += B64[((b0 & 3) << 4) | ((b1 ?? 0) >> 4)]!;
    if (b1 !== undefined) out += B64[((b1 & 15) << 2) | ((b2 ?? 0) >> 6)]!;
    if (b2 !== undefined) out += B64[b2 & 63]!;
  }
  return `&${out}-`;
}

/** Encodes a Unicode mailbox name to modified UTF-7. */
export function encodeMailboxUtf7(name: string): string {
  let out = '';
  let run: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (isDirect(code)) {
      if (run.length > 0) {
        out += encodeRun(run);
        run = [];
      }
      out += code === 0x26 ? '&-' : name[i];
    } else {
      run.push(code);
    }
  }
  if (run.length > 0) out += encodeRun(run);
  return out;
}

function decodeRun(text: string): string | null {
  let bits = 0;
  let acc = 0;
  const bytes: number[] = [];
  for (const c of text) {
    const v = B64_INDEX.get(c);
    if (v === undefined) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be padding zeros; the bytes must form whole UTF-16 units.
  if (bits >= 6 || (acc & ((1 << bits) - 1)) !== 0 || bytes.length % 2 !== 0 || bytes.length === 0) return null;
  let out = '';
  for (let i = 0; i < bytes.length; i += 2) {
    const unit = (bytes[i]! << 8) | bytes[i + 1]!;
    // Printable ASCII must not be encoded (RFC 3501 5.1.3), so such names are not canonical.
    if (isDirect(unit)) return null;
    out += String.fromCharCode(unit);
  }
  return out;
}

function wellFormedUtf16(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** Decodes a modified UTF-7 mailbox name; null when it is not valid, canonical mUTF-7. */
export function decodeMailboxUtf7(text: string): string | null {
  let out = '';
  let i = 0;
  let lastWasRun = false;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (!isDirect(code)) return null;
    if (code !== 0x26) {
      out += text[i];
      i++;
      lastWasRun = false;
      continue;
    }
    const end = text.indexOf('-', i + 1);
    if (end < 0) return null;
    if (end === i + 1) {
      out += '&';
      lastWasRun = false;
    } else {
      // Two adjacent encoded runs must have been written as one.
      if (lastWasRun) return null;
      const decoded = decodeRun(text.slice(i + 1, end));
      if (decoded === null) return null;
      out += decoded;
      lastWasRun = true;
    }
    i = end + 1;
  }
  return wellFormedUtf16(out) ? out : null;
}
