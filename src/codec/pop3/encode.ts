/** POP3 responses: status lines, SASL continuations, byte-stuffed multi-line responses, TOP extraction. */

/** RFC 2449 / RFC 3206 response codes postern uses; others must look like "WORD" or "WORD/WORD". */
export type Pop3ResponseCode = 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM' | 'AUTH' | 'UTF8' | (string & {});

const CODE = /^[A-Za-z0-9-]+(?:\/[A-Za-z0-9-]+)*$/;
const CRLF = Buffer.from('\r\n');
const DOT = Buffer.from('.');
const TERMINATOR = Buffer.from('.\r\n');

function statusLine(prefix: '+OK' | '-ERR', text: string, code?: Pop3ResponseCode): Buffer {
  const c = code !== undefined && CODE.test(code) ? `[${code.toUpperCase()}]` : '';
  const t = text.replace(/[\r\n\0]+/g, ' ').trim();
  return Buffer.from([prefix, c, t].filter((s) => s.length > 0).join(' ') + '\r\n', 'utf8');
}

/** "+OK text\r\n" (code: RFC 2449 extended response code). */
export const pop3Ok = (text = '', code?: Pop3ResponseCode): Buffer => statusLine('+OK', text, code);

/** "-ERR [CODE] text\r\n". */
export const pop3Err = (text: string, code?: Pop3ResponseCode): Buffer => statusLine('-ERR', text, code);

/** "+ challenge\r\n" for AUTH (RFC 5034): base64, or empty. */
export function pop3Continuation(base64 = ''): Buffer {
  return Buffer.from(`+ ${base64.replace(/[\r\n\0]+/g, '')}\r\n`, 'latin1');
}

/**
 * Byte-stuffs a body for a multi-line response: a "." is added before every
 * line that starts with "."; bare LF becomes CRLF; the result ends with CRLF
 * (unless empty), so the terminator can follow directly.
 */
export function dotStuff(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    let lf = body.indexOf(0x0a, start);
    const last = lf < 0;
    if (last) lf = body.length;
    const end = lf > start && body[lf - 1] === 0x0d ? lf - 1 : lf;
    if (body[start] === 0x2e) parts.push(DOT);
    parts.push(body.subarray(start, end), CRLF);
    start = lf + 1;
  }
  return Buffer.concat(parts);
}

/** A multi-line response: status line, stuffed body, ".\r\n". Write the Buffers in order. */
export function pop3MultiLine(status: Buffer, body: Buffer): Buffer[] {
  const stuffed = dotStuff(body);
  return stuffed.length > 0 ? [status, stuffed, TERMINATOR] : [status, TERMINATOR];
}

/** A multi-line response made of text lines (LIST, UIDL, CAPA listings). */
export function pop3MultiLineText(status: Buffer, lines: readonly string[]): Buffer {
  const body = lines.map((l) => (l.startsWith('.') ? '.' : '') + l.replace(/[\r\n\0]+/g, ' ') + '\r\n').join('');
  return Buffer.concat([status, Buffer.from(body, 'utf8'), TERMINATOR]);
}

/** Where the header section ends: the index just past its blank line, or -1 when there is none. */
function headerEnd(message: Buffer): number {
  if (message[0] === 0x0a) return 1;
  if (message[0] === 0x0d && message[1] === 0x0a) return 2;
  let i = message.indexOf(0x0a);
  while (i >= 0 && i + 1 < message.length) {
    const next = message[i + 1];
    if (next === 0x0a) return i + 2;
    if (next === 0x0d && message[i + 2] === 0x0a) return i + 3;
    i = message.indexOf(0x0a, i + 1);
  }
  return -1;
}

/**
 * TOP n m (RFC 1939): the header section, the blank line after it, and the
 * first m lines of the body. A message without a body is returned whole.
 */
export function extractTop(message: Buffer, lines: number): Buffer {
  const bodyStart = headerEnd(message);
  if (bodyStart < 0) return message;
  let end = bodyStart;
  for (let n = 0; n < lines && end < message.length; n++) {
    const lf = message.indexOf(0x0a, end);
    end = lf < 0 ? message.length : lf + 1;
  }
  return message.subarray(0, end);
}
