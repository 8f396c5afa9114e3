/**
 * SMTP reply parsing for the client side (RFC 5321 4.2). Replies come from
 * untrusted servers, so lines, replies and the bytes held between replies
 * are bounded, and a malformed reply is a protocol error, never a guess.
 */
export interface SmtpReply {
  readonly code: number;
  /** RFC 3463 enhanced status code when the server gave one (ENHANCEDSTATUSCODES), e.g. "5.1.1". */
  readonly enhanced: string | null;
  readonly lines: readonly string[];
}

export class SmtpProtocolError extends Error {
  override readonly name = 'SmtpProtocolError';
}

/** RFC 5321 4.5.3.1.5 allows 512 octets per reply line; four times that, generously. */
export const MAX_REPLY_LINE = 2048;
/** Lines in one multiline reply (an EHLO answer has a few dozen at most). */
export const MAX_REPLY_LINES = 100;
/**
 * Bytes held that are not yet a complete reply: one largest reply. A peer
 * that sends more while nothing is asked of it (during a message write, on
 * an idle session) is flooding, and the connection is dropped.
 */
export const MAX_PENDING_BYTES = (MAX_REPLY_LINE + 2) * MAX_REPLY_LINES;

export class ReplyParser {
  private buf: Buffer = Buffer.alloc(0);
  private lines: string[] = [];
  private code = 0;

  /** Throws SmtpProtocolError when the bytes held would exceed MAX_PENDING_BYTES. */
  push(chunk: Buffer): void {
    if (this.buf.length + chunk.length > MAX_PENDING_BYTES) {
      throw new SmtpProtocolError(`peer sent more than ${MAX_PENDING_BYTES} bytes of replies not yet asked for`);
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** Bytes received but not yet part of a complete reply. */
  get pending(): number {
    return this.buf.length + this.lines.length;
  }

  /** The next complete reply, or null when more bytes are needed. */
  next(): SmtpReply | null {
    for (;;) {
      const lf = this.buf.indexOf(0x0a);
      if (lf === -1) {
        if (this.buf.length > MAX_REPLY_LINE) throw new SmtpProtocolError('reply line too long');
        return null;
      }
      if (lf > MAX_REPLY_LINE) throw new SmtpProtocolError('reply line too long');
      const end = lf > 0 && this.buf[lf - 1] === 0x0d ? lf - 1 : lf;
      const line = this.buf.subarray(0, end).toString('latin1');
      this.buf = this.buf.subarray(lf + 1);
      const m = /^([2-5][0-9][0-9])([ -]|$)(.*)$/.exec(line);
      if (!m) throw new SmtpProtocolError(`malformed reply line ${JSON.stringify(line.slice(0, 80))}`);
      const code = Number(m[1]);
      if (this.lines.length > 0 && code !== this.code) throw new SmtpProtocolError('reply code changed within a multiline reply');
      this.code = code;
      this.lines.push(m[3]!);
      if (this.lines.length > MAX_REPLY_LINES) throw new SmtpProtocolError('too many reply lines');
      if (m[2] !== '-') {
        const lines = this.lines;
        this.lines = [];
        const enhanced = new RegExp(`^(${String(code)[0]}\\.\\d{1,3}\\.\\d{1,3})(?: |$)`).exec(lines[0] ?? '')?.[1] ?? null;
        return { code, enhanced, lines };
      }
    }
  }
}

/** One line for logs and bounces: "550 5.1.1 No such user". */
export function replyText(r: SmtpReply): string {
  return `${r.code} ${r.lines.join(' ').trim()}`.trim();
}

/** The EHLO keywords (upper-case) and their parameters; the first line is the greeting. */
export function ehloExtensions(r: SmtpReply): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of r.lines.slice(1)) {
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*)(?:[ =](.*))?$/.exec(line.trim());
    if (m) out.set(m[1]!.toUpperCase(), (m[2] ?? '').trim());
  }
  return out;
}
