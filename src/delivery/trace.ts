/**
 * The fields final delivery adds (RFC 5321 4.4): `Return-Path:` with the
 * envelope sender (`<>` for the null sender), after removing any Return-Path
 * the message arrived with (only the delivering server may write one), and
 * `Delivered-To:` with the mailbox it is delivered to, as Postfix and
 * Dovecot write it. One pass over the header section; the body is not read.
 */

const RETURN_PATH = /^return-path[ \t]*:/i;

/**
 * No space or control character (C0, DEL, C1) in a field value: the addresses
 * come from the queue, but a line break must never get in. UTF-8 addresses
 * (RFC 6531) are written as UTF-8 (RFC 6532 header fields).
 */
function safe(address: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  return address.replace(/[\x00-\x20\x7f-\x9f\u2028\u2029]/g, '');
}

/** The byte offsets [start, end) of each Return-Path field (continuation lines included) in the header section. */
function returnPathRanges(raw: Buffer): [number, number][] {
  const ranges: [number, number][] = [];
  let pos = 0;
  let open: [number, number] | null = null;
  while (pos < raw.length) {
    const nl = raw.indexOf(0x0a, pos);
    const end = nl < 0 ? raw.length : nl + 1;
    const first = raw[pos];
    if (first === 0x0d || first === 0x0a) break; // the empty line: end of the header section
    if (first === 0x20 || first === 0x09) {
      if (open) open[1] = end; // a continuation of the field before
    } else {
      open = null;
      // A field name is at most a short line prefix: only those bytes are looked at.
      if (RETURN_PATH.test(raw.toString('latin1', pos, Math.min(end, pos + 64)))) {
        open = [pos, end];
        ranges.push(open);
      }
    }
    pos = end;
  }
  return ranges;
}

/** The message as delivered to `recipient`: the two trace fields first, then the message without a Return-Path of its own. */
export function withDeliveryFields(raw: Uint8Array, sender: string, recipient: string): Buffer {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const head = Buffer.from(`Return-Path: <${safe(sender)}>\r\nDelivered-To: ${safe(recipient)}\r\n`, 'utf8');
  const parts: Buffer[] = [head];
  let from = 0;
  for (const [start, end] of returnPathRanges(bytes)) {
    parts.push(bytes.subarray(from, start));
    from = end;
  }
  parts.push(bytes.subarray(from));
  return Buffer.concat(parts);
}
