import { ByteQueue } from './byte-queue.js';
import { LiteralMarkerScanner, type LiteralMarker } from './literal-marker.js';
import { tagOf, verbOf, type RawCommand } from './raw.js';

export interface ImapReaderOptions {
  /** Longest text line, excluding the line end and any literal. Default 64 KiB. */
  maxLineLength?: number;
  /** Largest literal the reader will ever accept. Default 64 MiB. */
  maxLiteralSize?: number;
  /** Text plus literals of one command. Default 80 MiB. */
  maxCommandSize?: number;
  /** Literals in one command (MULTIAPPEND sends one per message). Default 1000. */
  maxLiterals?: number;
  /** Largest non-synchronising literal; 4096 under LITERAL-. Default: maxLiteralSize (LITERAL+). */
  maxNonSyncLiteral?: number;
  /** Largest refused non-synchronising literal that is skipped rather than closing the connection. Default 1 MiB. */
  maxDiscard?: number;
}

export type ImapReaderMode = 'command' | 'idle' | 'raw';

export type ImapReaderErrorCode = 'line-too-long' | 'literal-too-large' | 'command-too-large' | 'too-many-literals';

export type ImapReaderEvent =
  | { readonly type: 'command'; readonly tag: string | null; readonly command: RawCommand }
  | {
      /** Answer with acceptLiteral() (then send "+ ..." when !nonSync) or refuseLiteral() (then send a tagged NO/BAD). */
      readonly type: 'literal-request';
      readonly tag: string | null;
      readonly verb: string | null;
      readonly size: number;
      readonly nonSync: boolean;
      readonly binary: boolean;
      /** 0 for the first literal of the command. */
      readonly index: number;
    }
  | {
      /** Send `${tag ?? '*'} BAD ${message}`; when fatal, send BYE and close instead. */
      readonly type: 'error';
      readonly code: ImapReaderErrorCode;
      readonly tag: string | null;
      readonly message: string;
      readonly fatal: boolean;
    }
  /** In idle mode: the line that ends IDLE. done is false for anything but DONE (answer BAD). The reader returns to command mode. */
  | { readonly type: 'idle-end'; readonly done: boolean; readonly line: Buffer }
  /** In raw mode (AUTHENTICATE responses): one line, line end removed. */
  | { readonly type: 'line'; readonly line: Buffer };

type State =
  | { s: 'line' }
  | { s: 'literal'; left: number }
  /** atEnd: the line end was already consumed. */
  | { s: 'discard-line'; markers: boolean; atEnd: boolean }
  | { s: 'discard-literal'; left: number }
  | { s: 'closed' };

interface PendingCommand {
  tag: string | null;
  verb: string | null;
  lines: Buffer[];
  literals: Buffer[];
  size: number;
}

const CR = 0x0d;
const HEAD_BYTES = 300;

interface Overflow {
  head: Buffer;
  /** head holds as many bytes as it may: the tag must be followed by a space within it. */
  truncated: boolean;
  /** Its line end was consumed. */
  complete: boolean;
}

/**
 * Streaming IMAP command reader. push() only queues bytes; next() does the work,
 * so the server can change mode (IDLE, AUTHENTICATE) between two commands of a
 * pipelined stream. Bare LF is accepted as a line end, as Dovecot does.
 */
export class ImapCommandReader {
  private readonly maxLine: number;
  private readonly maxLiteral: number;
  private readonly maxCommand: number;
  private readonly maxLiterals: number;
  private readonly maxNonSync: number;
  private readonly maxDiscard: number;
  private readonly input = new ByteQueue();
  private readonly scanner = new LiteralMarkerScanner();
  private state: State = { s: 'line' };
  private modeValue: ImapReaderMode = 'command';
  private cmd: PendingCommand | null = null;
  private lineParts: Buffer[] = [];
  private lineLen = 0;
  private literalParts: Buffer[] = [];
  private pending: (ImapReaderEvent & { type: 'literal-request' }) | null = null;

  constructor(options: ImapReaderOptions = {}) {
    this.maxLine = options.maxLineLength ?? 64 * 1024;
    this.maxLiteral = options.maxLiteralSize ?? 64 * 1024 * 1024;
    this.maxCommand = options.maxCommandSize ?? 80 * 1024 * 1024;
    this.maxLiterals = options.maxLiterals ?? 1000;
    this.maxNonSync = Math.min(options.maxNonSyncLiteral ?? this.maxLiteral, this.maxLiteral);
    this.maxDiscard = options.maxDiscard ?? 1024 * 1024;
  }

  /** Queues bytes from the socket. Pause the socket while bufferedBytes grows and next() returns null. */
  push(chunk: Buffer): void {
    if (this.state.s !== 'closed' && chunk.length > 0) this.input.push(chunk);
  }

  /** Bytes received but not yet consumed. */
  get bufferedBytes(): number {
    return this.input.length + this.lineLen;
  }

  get mode(): ImapReaderMode {
    return this.modeValue;
  }

  /** True while the bytes of a literal (accepted or being discarded) are expected: a transfer, not a command line. */
  get receivingLiteral(): boolean {
    return this.state.s === 'literal' || this.state.s === 'discard-literal';
  }

  /**
   * True when a literal of the command being read has just been received in
   * full and nothing of the rest of its line has come yet: the client may be
   * holding that rest back until its literal is acknowledged.
   */
  get literalJustEnded(): boolean {
    const c = this.cmd;
    return this.state.s === 'line' && c !== null && c.literals.length > 0 && c.literals.length === c.lines.length && this.bufferedBytes === 0;
  }

  /** Switch between commands: 'idle' after answering IDLE with "+", 'raw' while AUTHENTICATE runs. */
  setMode(mode: ImapReaderMode): void {
    this.modeValue = mode;
  }

  /** True once a fatal error was reported; the server must close the connection. */
  get closed(): boolean {
    return this.state.s === 'closed';
  }

  /** Accept the literal of the pending literal-request; its bytes are read next. */
  acceptLiteral(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    this.state = { s: 'literal', left: p.size };
    this.literalParts = [];
  }

  /**
   * Refuse the pending literal; the rest of the command is dropped. A
   * synchronising literal is never sent by the client. A non-synchronising one
   * is already on its way: it is skipped when not larger than maxDiscard,
   * otherwise the reader closes and mustClose is true.
   */
  refuseLiteral(): { mustClose: boolean } {
    const p = this.pending;
    if (!p) return { mustClose: this.closed };
    this.pending = null;
    this.cmd = null;
    return { mustClose: this.skipLiteral(p) };
  }

  /** The next event, or null when more input (or an answer to a literal-request) is needed. */
  next(): ImapReaderEvent | null {
    if (this.pending) return this.pending;
    for (;;) {
      const st = this.state;
      switch (st.s) {
        case 'closed':
          return null;
        case 'literal': {
          if (st.left > 0) {
            const piece = this.input.take(st.left);
            if (!piece) return null;
            this.literalParts.push(piece);
            st.left -= piece.length;
            if (st.left > 0) continue;
          }
          this.cmd?.literals.push(Buffer.concat(this.literalParts));
          this.literalParts = [];
          this.state = { s: 'line' };
          continue;
        }
        case 'discard-literal': {
          st.left -= this.input.skip(st.left);
          if (st.left > 0) return null;
          this.state = { s: 'discard-line', markers: true, atEnd: false };
          continue;
        }
        case 'discard-line': {
          if (!st.atEnd && !this.discardToLineEnd(st.markers)) return null;
          const marker = st.markers ? this.scanner.result() : null;
          this.scanner.reset();
          this.state = { s: 'line' };
          if (marker?.nonSync && this.skipLiteral(marker)) return this.fatal('literal-too-large', null, 'Literal too large');
          continue;
        }
        case 'line': {
          const ev = this.readLineEvent();
          if (ev === undefined) return null;
          if (ev !== null) return ev;
        }
      }
    }
  }

  // Returns an event, null to keep going, undefined when input ran out.
  private readLineEvent(): ImapReaderEvent | null | undefined {
    const scan = this.modeValue === 'command';
    const r = this.readLine(scan);
    if (r === 'more') return undefined;
    if (typeof r === 'object' && !Buffer.isBuffer(r)) {
      // Too long: report now, then skip to the line end and past any literal it announces.
      // The same bytes decide the tag however the input was chunked.
      const tag = this.cmd ? this.cmd.tag : scan ? tagOf(r.head, r.truncated) : null;
      this.cmd = null;
      if (this.modeValue === 'idle') this.modeValue = 'command';
      this.state = { s: 'discard-line', markers: scan, atEnd: r.complete };
      return { type: 'error', code: 'line-too-long', tag, message: 'Line too long', fatal: false };
    }
    const line = r;
    if (this.modeValue === 'raw') return { type: 'line', line };
    if (this.modeValue === 'idle') {
      this.modeValue = 'command';
      return { type: 'idle-end', done: line.length === 4 && line.toString('latin1').toUpperCase() === 'DONE', line };
    }
    const marker = this.scanner.result();
    this.scanner.reset();
    if (!this.cmd) {
      // Empty lines between commands carry nothing; ignore them as Dovecot does.
      if (line.length === 0) return null;
      this.cmd = { tag: tagOf(line), verb: verbOf(line), lines: [], literals: [], size: 0 };
    }
    const cmd = this.cmd;
    cmd.lines.push(line);
    cmd.size += line.length + 2;
    if (cmd.size > this.maxCommand) return this.dropCommand(marker, 'command-too-large', 'Command too large');
    if (!marker) {
      this.cmd = null;
      return { type: 'command', tag: cmd.tag, command: { lines: cmd.lines, literals: cmd.literals } };
    }
    if (cmd.literals.length >= this.maxLiterals) return this.dropCommand(marker, 'too-many-literals', 'Too many literals');
    const limit = marker.nonSync ? this.maxNonSync : this.maxLiteral;
    if (marker.size > limit || cmd.size + marker.size > this.maxCommand) {
      return this.dropCommand(marker, 'literal-too-large', `Literal too large (limit ${limit} octets)`);
    }
    cmd.size += marker.size;
    this.pending = { type: 'literal-request', tag: cmd.tag, verb: cmd.verb, size: marker.size, nonSync: marker.nonSync, binary: marker.binary, index: cmd.literals.length };
    return this.pending;
  }

  private dropCommand(marker: LiteralMarker | null, code: ImapReaderErrorCode, message: string): ImapReaderEvent {
    const tag = this.cmd?.tag ?? null;
    this.cmd = null;
    if (marker && this.skipLiteral(marker)) return this.fatal(code, tag, message);
    return { type: 'error', code, tag, message, fatal: false };
  }

  // After a refused literal: a synchronising one never comes; a non-synchronising
  // one is skipped with the rest of its command. Returns true when the reader closed.
  private skipLiteral(marker: LiteralMarker): boolean {
    if (!marker.nonSync) {
      this.state = { s: 'line' };
      return false;
    }
    if (marker.size > this.maxDiscard) {
      this.close();
      return true;
    }
    this.state = { s: 'discard-literal', left: marker.size };
    return false;
  }

  private fatal(code: ImapReaderErrorCode, tag: string | null, message: string): ImapReaderEvent {
    this.close();
    return { type: 'error', code, tag, message, fatal: true };
  }

  private close(): void {
    this.state = { s: 'closed' };
    this.input.clear();
    this.lineParts = [];
    this.lineLen = 0;
    this.literalParts = [];
    this.cmd = null;
  }

  // A complete line without its line end, 'more', or an overflow past maxLineLength
  // (with the line's first bytes, for the tag, and whether its end was reached).
  private readLine(scan: boolean): Buffer | 'more' | Overflow {
    for (;;) {
      const { piece, found } = this.input.takeLine();
      if (!piece) return 'more';
      if (scan) this.scanner.feed(piece);
      this.lineParts.push(piece);
      this.lineLen += piece.length;
      // One byte of slack for the CR of CRLF.
      if (this.lineLen > this.maxLine + 1) return this.overflow(found);
      if (!found) continue;
      let line = this.lineParts.length === 1 ? this.lineParts[0]! : Buffer.concat(this.lineParts, this.lineLen);
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      if (line.length > this.maxLine) return this.overflow(true);
      this.lineParts = [];
      this.lineLen = 0;
      return line;
    }
  }

  // Keeps the first bytes of an overlong line: exactly as many as any chunking has seen at this point.
  private overflow(complete: boolean): Overflow {
    const want = Math.min(HEAD_BYTES, this.maxLine + 2);
    const first: Buffer[] = [];
    let n = 0;
    for (const p of this.lineParts) {
      if (n >= want) break;
      first.push(p.subarray(0, want - n));
      n += Math.min(p.length, want - n);
    }
    const head = Buffer.concat(first);
    // A full head says nothing about what follows it (that depends on chunking), so the tag must end inside it.
    const truncated = head.length >= want;
    this.lineParts = [];
    this.lineLen = 0;
    return { head, truncated, complete };
  }

  // Skips bytes through the next LF, feeding the marker scanner. True at the line end.
  private discardToLineEnd(scan: boolean): boolean {
    for (;;) {
      const { piece, found } = this.input.takeLine();
      if (!piece) return false;
      if (scan) this.scanner.feed(piece);
      if (found) return true;
    }
  }
}
