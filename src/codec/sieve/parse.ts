/**
 * RFC 5228 lexer and grammar. One linear pass over the script, no regular
 * expressions on script text, nesting bounded; every failure is returned as
 * `{ ok: false, error }` with its line, never thrown to the caller.
 */

export const SIEVE_LIMITS = {
  /** Largest script accepted, in bytes. */
  maxScriptBytes: 64 * 1024,
  /** Deepest nesting of blocks and test lists. */
  maxDepth: 24,
  /** Most strings in one string list. */
  maxListItems: 1024,
} as const;

export type Arg =
  | { readonly kind: 'tag'; readonly name: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'strings'; readonly values: readonly string[]; readonly list: boolean };

export interface Test {
  readonly name: string;
  readonly args: readonly Arg[];
  readonly tests: readonly Test[];
  readonly line: number;
}

export interface Command {
  readonly name: string;
  readonly args: readonly Arg[];
  readonly tests: readonly Test[];
  readonly block: readonly Command[] | null;
  readonly line: number;
}

export type ParseResult = { ok: true; commands: Command[] } | { ok: false; error: string; line: number };

type Tok =
  | { t: 'id'; v: string; line: number }
  | { t: 'tag'; v: string; line: number }
  | { t: 'num'; v: number; line: number }
  | { t: 'str'; v: string; line: number }
  | { t: 'punct'; v: string; line: number }
  | { t: 'eof'; line: number };

class SieveSyntax {
  constructor(
    readonly message: string,
    readonly line: number,
  ) {}
}

const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const QUANT: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Splits the script into tokens; throws SieveSyntax (caught by parseSieve). */
function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 10) {
      line++;
      i++;
    } else if (c === 32 || c === 9 || c === 13) i++;
    else if (c === 35) {
      // hash comment to end of line
      while (i < n && src.charCodeAt(i) !== 10) i++;
    } else if (c === 47 && src.charCodeAt(i + 1) === 42) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new SieveSyntax('unterminated bracket comment', line);
      for (let j = i; j < end; j++) if (src.charCodeAt(j) === 10) line++;
      i = end + 2;
    } else if (c === 34) {
      const start = line;
      let s = '';
      i++;
      for (;;) {
        if (i >= n) throw new SieveSyntax('unterminated string', start);
        const d = src.charCodeAt(i);
        if (d === 34) break;
        if (d === 92 && i + 1 < n) {
          i++; // RFC 5228 2.4.2: backslash keeps the next character
        }
        if (src.charCodeAt(i) === 10) line++;
        s += src[i];
        i++;
      }
      i++;
      out.push({ t: 'str', v: s, line: start });
    } else if (c === 58) {
      let j = i + 1;
      if (j >= n || !isAlpha(src.charCodeAt(j))) throw new SieveSyntax('bad tag', line);
      while (j < n && (isAlpha(src.charCodeAt(j)) || isDigit(src.charCodeAt(j)))) j++;
      out.push({ t: 'tag', v: src.slice(i + 1, j).toLowerCase(), line });
      i = j;
    } else if (isDigit(c)) {
      let j = i;
      while (j < n && isDigit(src.charCodeAt(j))) j++;
      if (j - i > 10) throw new SieveSyntax('number too large', line);
      let v = Number(src.slice(i, j));
      const q = QUANT[(src[j] ?? '').toLowerCase()];
      if (q !== undefined) {
        v *= q;
        j++;
      }
      if (v > 2 ** 53) throw new SieveSyntax('number too large', line);
      out.push({ t: 'num', v, line });
      i = j;
    } else if (isAlpha(c)) {
      let j = i;
      while (j < n && (isAlpha(src.charCodeAt(j)) || isDigit(src.charCodeAt(j)))) j++;
      const word = src.slice(i, j).toLowerCase();
      if (word === 'text' && src[j] === ':') {
        const r = multiLine(src, j + 1, line);
        out.push({ t: 'str', v: r.text, line });
        line = r.line;
        i = r.next;
      } else {
        out.push({ t: 'id', v: word, line });
        i = j;
      }
    } else if ('[](),;{}'.includes(src[i]!)) {
      out.push({ t: 'punct', v: src[i]!, line });
      i++;
    } else throw new SieveSyntax(`unexpected character ${JSON.stringify(src[i])}`, line);
  }
  out.push({ t: 'eof', line });
  return out;
}

/** `text:` up to a line holding only ".", with dot-stuffing undone (RFC 5228 2.4.2). */
function multiLine(src: string, from: number, line: number): { text: string; next: number; line: number } {
  let i = from;
  // rest of the "text:" line: white space and an optional hash comment only
  while (i < src.length && (src[i] === ' ' || src[i] === '\t')) i++;
  if (src[i] === '#') while (i < src.length && src[i] !== '\n') i++;
  if (src[i] === '\r') i++;
  if (src[i] !== '\n') throw new SieveSyntax('text: must end its line', line);
  i++;
  line++;
  const lines: string[] = [];
  for (;;) {
    if (i >= src.length) throw new SieveSyntax('unterminated text: block', line);
    let end = src.indexOf('\n', i);
    if (end < 0) end = src.length;
    let l = src.slice(i, end);
    if (l.endsWith('\r')) l = l.slice(0, -1);
    i = end + 1;
    line++;
    if (l === '.') break;
    lines.push(l.startsWith('..') ? l.slice(1) : l);
  }
  return { text: lines.map((l) => l + '\r\n').join(''), next: i, line };
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.pos]!;
  }
  private take(): Tok {
    return this.toks[this.pos++]!;
  }
  private isPunct(v: string): boolean {
    const t = this.peek();
    return t.t === 'punct' && t.v === v;
  }
  private expect(v: string): void {
    const t = this.take();
    if (t.t !== 'punct' || t.v !== v) throw new SieveSyntax(`expected "${v}"`, t.line);
  }

  commands(depth: number, inBlock: boolean): Command[] {
    const out: Command[] = [];
    for (;;) {
      const t = this.peek();
      if (t.t === 'eof') {
        if (inBlock) throw new SieveSyntax('missing "}"', t.line);
        return out;
      }
      if (t.t === 'punct' && t.v === '}') {
        if (!inBlock) throw new SieveSyntax('unexpected "}"', t.line);
        return out;
      }
      out.push(this.command(depth));
    }
  }

  private command(depth: number): Command {
    const t = this.take();
    if (t.t !== 'id') throw new SieveSyntax('expected a command', t.line);
    const args = this.args();
    const tests = this.testsFor(depth);
    if (this.isPunct(';')) {
      this.take();
      return { name: t.v, args, tests, block: null, line: t.line };
    }
    if (this.isPunct('{')) {
      if (depth >= SIEVE_LIMITS.maxDepth) throw new SieveSyntax('nesting too deep', t.line);
      this.take();
      const block = this.commands(depth + 1, true);
      this.expect('}');
      return { name: t.v, args, tests, block, line: t.line };
    }
    throw new SieveSyntax(`expected ";" or "{" after ${t.v}`, this.peek().line);
  }

  private args(): Arg[] {
    const out: Arg[] = [];
    for (;;) {
      const t = this.peek();
      if (t.t === 'tag') out.push({ kind: 'tag', name: (this.take() as { v: string }).v });
      else if (t.t === 'num') out.push({ kind: 'number', value: (this.take() as { v: number }).v });
      else if (t.t === 'str') out.push({ kind: 'strings', values: [(this.take() as { v: string }).v], list: false });
      else if (t.t === 'punct' && t.v === '[') out.push({ kind: 'strings', values: this.stringList(), list: true });
      else return out;
    }
  }

  private stringList(): string[] {
    this.expect('[');
    const out: string[] = [];
    for (;;) {
      const t = this.take();
      if (t.t !== 'str') throw new SieveSyntax('expected a string in the list', t.line);
      out.push(t.v);
      if (out.length > SIEVE_LIMITS.maxListItems) throw new SieveSyntax('string list too long', t.line);
      if (this.isPunct(',')) this.take();
      else break;
    }
    this.expect(']');
    return out;
  }

  /** A single test or a parenthesised test list after the arguments, if any. */
  private testsFor(depth: number): Test[] {
    const t = this.peek();
    if (t.t === 'id') return [this.test(depth + 1)];
    if (t.t === 'punct' && t.v === '(') return this.testList(depth + 1);
    return [];
  }

  private testList(depth: number): Test[] {
    if (depth >= SIEVE_LIMITS.maxDepth) throw new SieveSyntax('nesting too deep', this.peek().line);
    this.expect('(');
    const out: Test[] = [];
    for (;;) {
      out.push(this.test(depth + 1));
      if (this.isPunct(',')) this.take();
      else break;
    }
    this.expect(')');
    return out;
  }

  private test(depth: number): Test {
    if (depth >= SIEVE_LIMITS.maxDepth) throw new SieveSyntax('nesting too deep', this.peek().line);
    const t = this.take();
    if (t.t !== 'id') throw new SieveSyntax('expected a test', t.line);
    const args = this.args();
    const tests = this.testsFor(depth);
    return { name: t.v, args, tests, line: t.line };
  }
}

/** Parses a script into its command tree; never throws. */
export function parseSieve(script: string): ParseResult {
  try {
    if (Buffer.byteLength(script) > SIEVE_LIMITS.maxScriptBytes) return { ok: false, error: `script larger than ${SIEVE_LIMITS.maxScriptBytes} bytes`, line: 0 };
    const p = new Parser(lex(script));
    return { ok: true, commands: p.commands(0, false) };
  } catch (e) {
    if (e instanceof SieveSyntax) return { ok: false, error: e.message, line: e.line };
    return { ok: false, error: e instanceof Error ? e.message : String(e), line: 0 };
  }
}
