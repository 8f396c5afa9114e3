/**
 * Values of IMAP responses and their wire form. A JS string becomes a quoted
 * string when that is safe and a literal otherwise; a Buffer is always a
 * literal; an Atom is written as is; null is NIL; arrays are parenthesised lists.
 */

export interface Atom {
  readonly kind: 'atom';
  readonly text: string;
}

export interface Literal {
  readonly kind: 'literal';
  readonly data: Buffer;
  /** literal8 "~{n}" (RFC 3516), for BINARY[] data that holds NUL. */
  readonly binary: boolean;
}

/** Items written one after another with no space: "1*address" and "1*body" in the grammar. */
export interface Adjacent {
  readonly kind: 'adjacent';
  readonly items: readonly ImapValue[];
}

export type ImapValue = null | number | bigint | string | Buffer | Atom | Literal | Adjacent | readonly ImapValue[];

export interface EncodeOptions {
  /** The client enabled IMAP4rev2 or UTF8=ACCEPT: UTF-8 may be sent in quoted strings. */
  utf8?: boolean;
  /** Longest string sent quoted; longer ones become literals. Default 1024 octets. */
  maxQuoted?: number;
}

/** Text written verbatim: keywords, flags, numbers formatted by the caller. */
export function atom(text: string): Atom {
  return { kind: 'atom', text };
}

export function adjacent(items: readonly ImapValue[]): Adjacent {
  return { kind: 'adjacent', items };
}

export function literal(data: Buffer | string, binary = false): Literal {
  return { kind: 'literal', data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data, binary };
}

const DEFAULT_MAX_QUOTED = 1024;

/** Whether the bytes can be sent as a quoted string. */
export function canQuote(bytes: Buffer, options: EncodeOptions = {}): boolean {
  if (bytes.length > (options.maxQuoted ?? DEFAULT_MAX_QUOTED)) return false;
  for (const b of bytes) {
    // Controls are legal in quoted strings but trip up clients; send those as literals.
    if (b < 0x20 || b === 0x7f) return false;
    if (b >= 0x80 && !options.utf8) return false;
  }
  if (options.utf8 && !isWellFormedUtf8(bytes)) return false;
  return true;
}

function isWellFormedUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The octets of a string: UTF-8, except that a lone surrogate U+DC80..U+DCFF
 * stands for the raw byte 0x80..0xFF (see `rawEightBit` in the MIME codec),
 * so header text that was not UTF-8 goes out as the bytes it was.
 */
export function stringBytes(s: string): Buffer {
  if (!/[\udc80-\udcff]/.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      i++; // a pair: UTF-8 below
      continue;
    }
    if (c < 0xdc80 || c > 0xdcff) continue;
    parts.push(Buffer.from(s.slice(from, i), 'utf8'), Buffer.of(c - 0xdc00));
    from = i + 1;
  }
  parts.push(Buffer.from(s.slice(from), 'utf8'));
  return Buffer.concat(parts);
}

/** The wire form of a string: quoted when safe, else a literal. */
export function encodeString(s: string | Buffer, options: EncodeOptions = {}): Buffer {
  const bytes = typeof s === 'string' ? stringBytes(s) : s;
  if (canQuote(bytes, options)) return Buffer.from(quote(bytes.toString('utf8')), 'utf8');
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`, 'latin1'), bytes]);
}

/** A quoted string; the caller has checked it has no CR, LF or NUL. */
export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Collects output: text is joined, literal data is kept as separate Buffers (no copy). */
export class ResponseWriter {
  private readonly parts: Buffer[] = [];
  private text = '';

  constructor(readonly options: EncodeOptions = {}) {}

  write(text: string): this {
    this.text += text;
    return this;
  }

  private flush(): void {
    if (this.text.length > 0) {
      this.parts.push(Buffer.from(this.text, 'utf8'));
      this.text = '';
    }
  }

  private raw(b: Buffer): void {
    this.flush();
    this.parts.push(b);
  }

  private literalOf(data: Buffer, binary: boolean): void {
    this.write(`${binary ? '~' : ''}{${data.length}}\r\n`);
    if (data.length > 0) this.raw(data);
  }

  /** Writes one value. Throws RangeError past 128 nested lists: values come from server code, and encodeBodyStructure caps its own depth. */
  value(v: ImapValue, depth = 0): this {
    if (depth > 128) throw new RangeError('IMAP value nested too deeply');
    if (v === null) return this.write('NIL');
    if (typeof v === 'number' || typeof v === 'bigint') return this.write(formatNumber(v));
    if (typeof v === 'string') {
      const bytes = stringBytes(v);
      if (canQuote(bytes, this.options)) return this.write(quote(v));
      this.literalOf(bytes, false);
      return this;
    }
    if (Buffer.isBuffer(v)) {
      this.literalOf(v, false);
      return this;
    }
    if (Array.isArray(v)) return this.list(v, depth);
    const x = v as Atom | Literal | Adjacent;
    if (x.kind === 'atom') return this.write(x.text);
    if (x.kind === 'adjacent') {
      for (const item of x.items) this.value(item, depth);
      return this;
    }
    this.literalOf(x.data, x.binary);
    return this;
  }

  private list(items: readonly ImapValue[], depth: number): this {
    this.write('(');
    items.forEach((item, i) => {
      if (i > 0) this.write(' ');
      this.value(item, depth + 1);
    });
    return this.write(')');
  }

  /** Values separated by spaces. */
  values(vs: readonly ImapValue[]): this {
    vs.forEach((v, i) => {
      if (i > 0) this.write(' ');
      this.value(v);
    });
    return this;
  }

  buffers(): Buffer[] {
    this.flush();
    return this.parts;
  }

  buffer(): Buffer {
    const parts = this.buffers();
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

function formatNumber(n: number | bigint): string {
  if (typeof n === 'bigint') return n < 0n ? '0' : n.toString();
  if (!Number.isFinite(n) || n < 0) return '0';
  return String(Math.floor(n));
}

/** Serializes one value to bytes. */
export function encodeValue(v: ImapValue, options: EncodeOptions = {}): Buffer {
  return new ResponseWriter(options).value(v).buffer();
}
