import { ByteQueue } from '../imap/byte-queue.js';

export interface Pop3ReaderOptions {
  /** Longest command line including CRLF (RFC 2449 section 4: 255). */
  maxLineLength?: number;
  /** Longest line in raw mode (SASL responses, RFC 5034), including CRLF. Default 16 KiB. */
  maxRawLineLength?: number;
}

export type Pop3ReaderMode = 'command' | 'raw';

export type Pop3ReaderEvent =
  /** One line without its line end. In command mode, hand it to parsePop3Command. */
  | { readonly type: 'line'; readonly line: Buffer }
  /** The line was too long and has been skipped; answer -ERR and carry on. */
  | { readonly type: 'error'; readonly code: 'line-too-long'; readonly message: string };

const CR = 0x0d;

/**
 * Splits a POP3 client stream into lines with a length limit. push() only
 * queues; next() consumes, so the server can switch to raw mode for AUTH
 * between two pipelined lines. Bare LF is accepted as a line end.
 */
export class Pop3LineReader {
  private readonly input = new ByteQueue();
  private readonly maxLine: number;
  private readonly maxRaw: number;
  private parts: Buffer[] = [];
  private partsLen = 0;
  private discarding = false;
  private modeValue: Pop3ReaderMode = 'command';

  constructor(options: Pop3ReaderOptions = {}) {
    this.maxLine = options.maxLineLength ?? 255;
    this.maxRaw = options.maxRawLineLength ?? 16 * 1024;
  }

  push(chunk: Buffer): void {
    this.input.push(chunk);
  }

  get bufferedBytes(): number {
    return this.input.length + this.partsLen;
  }

  get mode(): Pop3ReaderMode {
    return this.modeValue;
  }

  /** 'raw' while an AUTH exchange reads client responses; back to 'command' after. */
  setMode(mode: Pop3ReaderMode): void {
    this.modeValue = mode;
  }

  next(): Pop3ReaderEvent | null {
    for (;;) {
      const { piece, found } = this.input.takeLine();
      if (!piece) return null;
      if (this.discarding) {
        if (found) this.discarding = false;
        continue;
      }
      this.parts.push(piece);
      this.partsLen += piece.length;
      // The limit counts CRLF; the LF is not in partsLen yet.
      const limit = (this.modeValue === 'raw' ? this.maxRaw : this.maxLine) - 1;
      if (this.partsLen > limit) {
        this.parts = [];
        this.partsLen = 0;
        this.discarding = !found;
        return { type: 'error', code: 'line-too-long', message: 'Line too long' };
      }
      if (!found) continue;
      let line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLen);
      this.parts = [];
      this.partsLen = 0;
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      return { type: 'line', line };
    }
  }
}
