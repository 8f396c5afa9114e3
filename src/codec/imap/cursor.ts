import { fail } from './errors.js';
import { decodeMailboxUtf7 } from './mutf7.js';
import type { RawCommand } from './raw.js';

/** Session state that changes how strings are read. */
export interface ImapParseOptions {
  /** IMAP4rev2 or UTF8=ACCEPT is enabled: mailbox names are UTF-8, not modified UTF-7. */
  utf8?: boolean;
}

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_DEPTH = 32;

export function isAtomChar(b: number): boolean {
  if (b <= 0x20 || b >= 0x7f) return false;
  // atom-specials: ( ) { SP CTL % * " \ ]
  return b !== 0x28 && b !== 0x29 && b !== 0x7b && b !== 0x25 && b !== 0x2a && b !== 0x22 && b !== 0x5c && b !== 0x5d;
}
export const isAstringChar = (b: number): boolean => isAtomChar(b) || b === 0x5d;
export const isListChar = (b: number): boolean => isAstringChar(b) || b === 0x25 || b === 0x2a;
export const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly; a parse failure otherwise. */
export function utf8(bytes: Buffer, what = 'string'): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return fail(`Invalid UTF-8 in ${what}`);
  }
}

function isAscii(b: Buffer): boolean {
  for (const x of b) if (x >= 0x80) return false;
  return true;
}

/** Reads one RawCommand left to right; methods throw ParseFailure on bad input. */
export class Cursor {
  private seg = 0;
  private pos = 0;
  private depth = 0;
  readonly utf8Names: boolean;

  constructor(
    private readonly raw: RawCommand,
    options: ImapParseOptions = {},
  ) {
    this.utf8Names = options.utf8 ?? false;
  }

  private get buf(): Buffer {
    return this.raw.lines[this.seg] ?? Buffer.alloc(0);
  }

  /** The byte at the cursor, or -1 at the end of a line. */
  peek(offset = 0): number {
    return this.buf[this.pos + offset] ?? -1;
  }

  atEnd(): boolean {
    return this.pos >= this.buf.length && this.seg >= this.raw.lines.length - 1;
  }

  end(): void {
    if (!this.atEnd()) fail(this.pos >= this.buf.length ? 'Unexpected literal' : 'Unexpected extra arguments');
  }

  tryChar(ch: number): boolean {
    if (this.peek() !== ch) return false;
    this.pos++;
    return true;
  }

  expect(ch: number, what: string): void {
    if (!this.tryChar(ch)) fail(`Expected ${what}`);
  }

  sp(): void {
    this.expect(SP, 'space');
  }

  trySp(): boolean {
    return this.tryChar(SP);
  }

  /** Guards recursion (nested lists, SEARCH keys) against deep nesting. */
  enter(): void {
    if (++this.depth > MAX_DEPTH) fail('Nesting too deep', 'too-complex');
  }

  leave(): void {
    this.depth--;
  }

  /** A run of bytes accepted by pred, at least one. */
  chars(pred: (b: number) => boolean, what: string): string {
    const start = this.pos;
    const buf = this.buf;
    while (this.pos < buf.length && pred(buf[this.pos]!)) this.pos++;
    if (this.pos === start) fail(`Expected ${what}`);
    return buf.toString('latin1', start, this.pos);
  }

  atom(): string {
    return this.chars(isAtomChar, 'atom');
  }

  /** An atom, upper-cased (keywords are case-insensitive). */
  word(what = 'keyword'): string {
    return this.chars(isAtomChar, what).toUpperCase();
  }

  /** The upper-cased atom at the cursor, not consumed; null when there is none. */
  peekWord(): string | null {
    const buf = this.buf;
    let i = this.pos;
    while (i < buf.length && isAtomChar(buf[i]!)) i++;
    return i === this.pos ? null : buf.toString('latin1', this.pos, i).toUpperCase();
  }

  /** Consumes the keyword when the next atom is exactly it (case-insensitive). */
  tryWord(word: string): boolean {
    if (this.peekWord() !== word) return false;
    this.pos += word.length;
    return true;
  }

  quoted(): Buffer {
    this.expect(DQUOTE, 'quoted string');
    const buf = this.buf;
    const out: number[] = [];
    for (;;) {
      const b = buf[this.pos++];
      if (b === undefined) return fail('Unterminated quoted string');
      if (b === DQUOTE) return Buffer.from(out);
      if (b === 0x0d || b === 0x0a || b === 0) fail('Invalid character in quoted string');
      if (b === BACKSLASH) {
        const n = buf[this.pos++];
        if (n !== DQUOTE && n !== BACKSLASH) fail('Invalid escape in quoted string');
        out.push(n);
      } else {
        out.push(b);
      }
    }
  }

  /**
   * A literal: `{n}`, `{n+}`, or with allow.binary also `~{n}` (literal8).
   * NUL is refused in plain literals unless allow.nul (APPEND message data).
   */
  literal(allow: { binary?: boolean; nul?: boolean } = {}): { data: Buffer; binary: boolean } {
    const binary = this.peek() === 0x7e;
    if (binary) {
      if (!allow.binary) fail('literal8 not allowed here');
      this.pos++;
    }
    this.expect(0x7b, 'literal');
    const digits = this.chars(isDigit, 'literal size');
    this.tryChar(0x2b);
    this.expect(0x7d, '"}"');
    const data = this.raw.literals[this.seg];
    if (this.pos !== this.buf.length || data === undefined) return fail('Literal must end the line');
    if (digits.length > 15 || Number(digits) !== data.length) fail('Literal size mismatch');
    if (!binary && !allow.nul && data.includes(0)) fail('NUL in literal');
    this.seg++;
    this.pos = 0;
    return { data, binary };
  }

  string(): Buffer {
    return this.peek() === DQUOTE ? this.quoted() : this.literal().data;
  }

  astring(): Buffer {
    const b = this.peek();
    if (b === DQUOTE || b === 0x7b) return this.string();
    const start = this.pos;
    this.chars(isAstringChar, 'string');
    return this.buf.subarray(start, this.pos);
  }

  nstring(): Buffer | null {
    if (this.tryWord('NIL')) return null;
    return this.string();
  }

  /** An astring decoded as UTF-8. */
  astringText(what = 'string'): string {
    return utf8(this.astring(), what);
  }

  /** number (RFC 9051): 32-bit unsigned. */
  number(): number {
    const s = this.chars(isDigit, 'number');
    const n = s.length > 10 ? Infinity : Number(s);
    if (n > 0xffffffff) fail('Number out of range');
    return n;
  }

  nzNumber(): number {
    const n = this.number();
    if (n === 0) fail('Number must not be zero');
    return n;
  }

  /** number64 / mod-sequence-valzer: 0..2^63-1. */
  number64(): bigint {
    const s = this.chars(isDigit, 'number');
    if (s.length > 19) fail('Number out of range');
    const n = BigInt(s);
    if (n > 0x7fffffffffffffffn) fail('Number out of range');
    return n;
  }

  /** A mailbox name, decoded: "INBOX" in any case is INBOX. */
  mailbox(): string {
    return decodeMailboxName(this.astring(), this.utf8Names);
  }

  /** A parenthesised list of items read by item(); empty lists allowed when allowEmpty. */
  list<T>(item: () => T, allowEmpty = true): T[] {
    this.expect(0x28, '"("');
    this.enter();
    const out: T[] = [];
    if (!this.tryChar(0x29)) {
      out.push(item());
      while (!this.tryChar(0x29)) {
        this.sp();
        out.push(item());
      }
    } else if (!allowEmpty) {
      fail('Empty list');
    }
    this.leave();
    return out;
  }
}

/** Turns the bytes of a mailbox argument into its Unicode name. */
export function decodeMailboxName(bytes: Buffer, utf8Names: boolean): string {
  if (bytes.length === 5 && bytes.toString('latin1').toUpperCase() === 'INBOX') return 'INBOX';
  // 8-bit names from IMAP4rev1 clients that never enabled UTF-8 are read as UTF-8 too.
  if (utf8Names || !isAscii(bytes)) return utf8(bytes, 'mailbox name');
  const name = decodeMailboxUtf7(bytes.toString('latin1'));
  if (name === null) fail('Mailbox name is not valid modified UTF-7', 'mailbox-name');
  return name;
}
