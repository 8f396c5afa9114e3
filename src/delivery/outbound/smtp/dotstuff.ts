/**
 * The DATA payload (RFC 5321 4.5.2): every line that starts with "." gets a
 * second one, line ends become CRLF, and the terminating "." line is added.
 */
export function dataPayload(message: Uint8Array): Buffer {
  const src = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const parts: Buffer[] = [];
  let start = 0;
  let lineStart = true;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (lineStart && c === 0x2e) {
      parts.push(src.subarray(start, i), DOT);
      start = i;
    }
    if (c === 0x0a) {
      if (i === 0 || src[i - 1] !== 0x0d) {
        parts.push(src.subarray(start, i), CRLF);
        start = i + 1;
      }
      lineStart = true;
    } else if (c === 0x0d && src[i + 1] !== 0x0a) {
      // A bare CR ends a line as well; never send one on its own (SMTP smuggling).
      parts.push(src.subarray(start, i), CRLF);
      start = i + 1;
      lineStart = true;
    } else {
      lineStart = false;
    }
  }
  parts.push(src.subarray(start));
  const endsWithNewline = src.length === 0 || src[src.length - 1] === 0x0a || src[src.length - 1] === 0x0d;
  if (!endsWithNewline) parts.push(CRLF);
  parts.push(END);
  return Buffer.concat(parts);
}

const DOT = Buffer.from('.');
const CRLF = Buffer.from('\r\n');
const END = Buffer.from('.\r\n');
