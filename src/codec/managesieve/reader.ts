/**
 * Splits a ManageSieve client stream (RFC 5804 section 4) into commands: an
 * atom and its arguments, which are atoms, numbers, quoted strings or
 * literals ({n} or {n+}, both read without a continuation, as RFC 5804 lets a
 * server do). A literal may be followed by more arguments on the next line, so
 * one command can span several lines. Every piece is bounded; input past a
 * bound is skipped as it streams in (never buffered whole) and reported once
 * the command ends, so client and server stay in step.
 */
import { ByteQueue } from '../imap/byte-queue.js';

export interface ManageSieveReaderOptions {
  /** Longest line (between CRLFs, outside literals), CRLF included. */
  maxLineLength?: number;
  /** Largest literal kept; a larger one is skipped and reported as 'literal-too-large'. */
  maxLiteralSize?: number;
  /** Largest literal skipped; a larger one is reported as fatal (the connection is closed). */
  maxSkippedLiteral?: number;
  /** Arguments after the command name. */
  maxArguments?: number;
}

export type ManageSieveToken =
  | { readonly type: 'atom'; readonly value: string }
  | { readonly type: 'string'; readonly value: Buffer; readonly literal: boolean };

export type ManageSieveErrorCode = 'line-too-long' | 'literal-too-large' | 'syntax';

export type ManageSieveReaderEvent =
  | { readonly type: 'command'; readonly tokens: readonly ManageSieveToken[] }
  /** The command was skipped. fatal: the client cannot be followed any more; answer BYE and close. */
  | { readonly type: 'error'; readonly code: ManageSieveErrorCode; readonly message: string; readonly fatal: boolean };

/** RFC 5804 section 4: quoted strings are at most 1024 octets. */
export const MAX_QUOTED = 1024;

const CR = 0x0d;
const LITERAL_AT_END = /\{(\d{1,10})(\+?)\}$/;
const ATOM = /^[!#$&'*+,./0-9:;<=>?@A-Z^_`a-z|~-]+/;

export class ManageSieveReader {
  private readonly input = new ByteQueue();
  private readonly maxLine: number;
  private readonly maxLiteral: number;
  private readonly maxSkipped: number;
  private readonly maxArgs: number;
  private lineParts: Buffer[] = [];
  private lineLen = 0;
  private tokens: ManageSieveToken[] = [];
  /** Set when the command is already refused: the rest of it is skipped. */
  private error: { code: ManageSieveErrorCode; message: string } | null = null;
  private skippingLine = false;
  private literal: { remaining: number; parts: Buffer[] | null } | null = null;

  constructor(options: ManageSieveReaderOptions = {}) {
    this.maxLine = options.maxLineLength ?? 8 * 1024;
    this.maxLiteral = options.maxLiteralSize ?? 64 * 1024;
    this.maxSkipped = options.maxSkippedLiteral ?? 1024 * 1024;
    this.maxArgs = options.maxArguments ?? 8;
  }

  push(chunk: Buffer): void {
    this.input.push(chunk);
  }

  get bufferedBytes(): number {
    return this.input.length + this.lineLen;
  }

  /** True while a literal is being read (its bytes are data, not a command line). */
  get inLiteral(): boolean {
    return this.literal !== null;
  }

  /** Forgets everything buffered (after STARTTLS: nothing sent before the handshake is run). */
  reset(): void {
    this.input.clear();
    this.lineParts = [];
    this.lineLen = 0;
    this.tokens = [];
    this.error = null;
    this.skippingLine = false;
    this.literal = null;
  }

  next(): ManageSieveReaderEvent | null {
    for (;;) {
      if (this.literal) {
        const lit = this.literal;
        const piece = this.input.take(lit.remaining);
        if (!piece) return null;
        lit.remaining -= piece.length;
        lit.parts?.push(piece);
        if (lit.remaining > 0) continue;
        this.literal = null;
        if (lit.parts && !this.error) this.tokens.push({ type: 'string', value: Buffer.concat(lit.parts), literal: true });
        continue;
      }
      const { piece, found } = this.input.takeLine();
      if (!piece) return null;
      if (!this.skippingLine) {
        this.lineParts.push(piece);
        this.lineLen += piece.length;
        if (this.lineLen > this.maxLine - 1) {
          this.lineParts = [];
          this.lineLen = 0;
          this.skippingLine = !found;
          // A line this long cannot be trusted to announce a literal: the command ends with it.
          const ev = this.fail('line-too-long', 'Line too long', false);
          this.tokens = [];
          this.error = null;
          return ev;
        }
      } else if (found) {
        this.skippingLine = false;
        continue;
      }
      if (!found) continue;
      let line = this.lineParts.length === 1 ? this.lineParts[0]! : Buffer.concat(this.lineParts, this.lineLen);
      this.lineParts = [];
      this.lineLen = 0;
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      const ev = this.segment(line.toString('latin1'));
      if (ev) return ev;
    }
  }

  /** One line of a command; returns the command or its error when the line ends it. */
  private segment(text: string): ManageSieveReaderEvent | null {
    const lit = LITERAL_AT_END.exec(text);
    const body = lit ? text.slice(0, lit.index) : text;
    if (!this.error) this.tokenize(body, lit !== null);
    if (lit) {
      const size = Number(lit[1]);
      if (size > this.maxSkipped) return this.fail('literal-too-large', 'Literal too large', true);
      let keep = true;
      if (size > this.maxLiteral) {
        this.error ??= { code: 'literal-too-large', message: 'Literal too large' };
        keep = false;
      }
      this.literal = { remaining: size, parts: keep && !this.error ? [] : null };
      if (size === 0) {
        this.literal = null;
        if (!this.error) this.tokens.push({ type: 'string', value: Buffer.alloc(0), literal: true });
      }
      return null;
    }
    const tokens = this.tokens;
    const error = this.error;
    this.tokens = [];
    this.error = null;
    if (error) return { type: 'error', code: error.code, message: error.message, fatal: false };
    if (tokens.length === 0) return { type: 'error', code: 'syntax', message: 'Empty command', fatal: false };
    return { type: 'command', tokens };
  }

  private fail(code: ManageSieveErrorCode, message: string, fatal: boolean): ManageSieveReaderEvent {
    this.tokens = [];
    this.error = null;
    return { type: 'error', code, message, fatal };
  }

  /** Atoms and quoted strings separated by single spaces; `beforeLiteral`: the literal follows a space. */
  private tokenize(s: string, beforeLiteral: boolean): void {
    let i = 0;
    const fresh = this.tokens.length === 0;
    // After a literal, the next argument (if any) follows a space.
    if (!fresh) {
      if (s.length === 0) return;
      if (s[0] !== ' ') return this.syntax('Expected a space after the literal');
      i = 1;
    }
    while (i < s.length) {
      if (this.tokens.length > this.maxArgs) return this.syntax('Too many arguments');
      if (s[i] === '"') {
        const r = quoted(s, i);
        if (typeof r === 'string') return this.syntax(r);
        this.tokens.push({ type: 'string', value: r.value, literal: false });
        i = r.end;
      } else {
        const m = ATOM.exec(s.slice(i, i + 1100));
        if (!m) return this.syntax('Unexpected character');
        if (m[0].length > 1024) return this.syntax('Atom too long');
        this.tokens.push({ type: 'atom', value: m[0] });
        i += m[0].length;
      }
      if (i === s.length) break;
      if (s[i] !== ' ') return this.syntax('Expected a space between arguments');
      i++;
      if (i === s.length && !beforeLiteral) return this.syntax('Trailing space');
    }
    if (beforeLiteral && s.length > 0 && s[s.length - 1] !== ' ') this.syntax('Expected a space before the literal');
    if (this.tokens.length > this.maxArgs + 1) this.syntax('Too many arguments');
  }

  private syntax(message: string): void {
    this.error ??= { code: 'syntax', message };
  }
}

/** A quoted string starting at s[start] (latin1 text, so one char per octet). */
function quoted(s: string, start: number): { value: Buffer; end: number } | string {
  let out = '';
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') return { value: Buffer.from(out, 'latin1'), end: i + 1 };
    if (c === '\\') {
      const n = s[i + 1];
      if (n !== '"' && n !== '\\') return 'Bad escape in quoted string';
      out += n;
      i++;
    } else if (c === '\0') {
      return 'NUL in quoted string';
    } else {
      out += c;
    }
    if (out.length > MAX_QUOTED) return 'Quoted string too long';
  }
  return 'Unterminated quoted string';
}
