/**
 * Content-Transfer-Encoding decoders (RFC 2045 section 6). Lenient: bytes that do
 * not fit the encoding are skipped (base64) or kept as they are (quoted-printable).
 * Both only shrink their input, and `maxOutput` stops early for callers that scan
 * a prefix.
 */

const B64 = new Int16Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => {
  B64[c.charCodeAt(0)] = i;
});
// base64url letters are accepted too: some senders use them by mistake.
B64['-'.charCodeAt(0)] = 62;
B64['_'.charCodeAt(0)] = 63;

/**
 * Decodes base64, ignoring line breaks and any byte outside the alphabet. Padding
 * ends a group, so concatenated padded chunks decode as the sender meant.
 */
export function decodeBase64(input: Uint8Array, maxOutput = Infinity): Uint8Array {
  const out = new Uint8Array(Math.min(Math.floor((input.length * 3) / 4) + 3, Math.max(0, maxOutput)));
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < input.length && n < out.length; i++) {
    const c = input[i]!;
    if (c === 0x3d) {
      bits = 0;
      acc = 0;
      continue;
    }
    const v = B64[c]!;
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

function hexVal(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Decodes quoted-printable: `=XX` escapes (either case), soft line breaks (`=` at the
 * end of a line, trailing blanks allowed) and trailing blanks on hard lines dropped.
 * A `=` that starts no valid escape is kept.
 */
export function decodeQuotedPrintable(input: Uint8Array, maxOutput = Infinity): Uint8Array {
  const out = new Uint8Array(Math.min(input.length, Math.max(0, maxOutput)));
  let n = 0;
  let i = 0;
  const len = input.length;
  while (i < len && n < out.length) {
    const c = input[i]!;
    if (c === 0x3d) {
      const h = hexVal(input[i + 1]);
      const l = hexVal(input[i + 2]);
      if (h >= 0 && l >= 0) {
        out[n++] = (h << 4) | l;
        i += 3;
        continue;
      }
      // Soft line break: "=" [blanks] (CRLF | LF | end of input).
      let j = i + 1;
      while (j < len && (input[j] === 0x20 || input[j] === 0x09)) j++;
      if (j >= len) break;
      if (input[j] === 0x0a) {
        i = j + 1;
        continue;
      }
      if (input[j] === 0x0d && (j + 1 >= len || input[j + 1] === 0x0a)) {
        i = Math.min(j + 2, len);
        continue;
      }
      out[n++] = c;
      i++;
      continue;
    }
    if (c === 0x20 || c === 0x09) {
      // Blanks before a hard line break are transport padding.
      let j = i;
      while (j < len && (input[j] === 0x20 || input[j] === 0x09)) j++;
      if (j >= len || input[j] === 0x0a || (input[j] === 0x0d && input[j + 1] === 0x0a)) {
        i = j;
        continue;
      }
      while (i < j && n < out.length) out[n++] = input[i++]!;
      continue;
    }
    out[n++] = c;
    i++;
  }
  return out.subarray(0, n);
}

/** Decodes a body by its (lower-cased) transfer encoding; identity encodings return a view. */
export function decodeTransfer(body: Uint8Array, encoding: string, maxOutput = Infinity): Uint8Array {
  const enc = encoding.trim().toLowerCase();
  if (enc === 'base64') return decodeBase64(body, maxOutput);
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body, maxOutput);
  return maxOutput < body.length ? body.subarray(0, Math.max(0, maxOutput)) : body;
}
