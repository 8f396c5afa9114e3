/**
 * Finds the literal marker (`{n}`, `{n+}`, `~{n}`, `~{n+}`) that ends an IMAP
 * line, outside quoted strings. Bytes are fed incrementally so a line that is
 * being discarded (too long) can still be checked without being kept.
 */
export interface LiteralMarker {
  readonly size: number;
  readonly nonSync: boolean;
  readonly binary: boolean;
}

const enum Q { Out, In, Escape }
const enum M { None, Digits, Plus, Done }

const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const PLUS = 0x2b;
const TILDE = 0x7e;
const CR = 0x0d;

export class LiteralMarkerScanner {
  private quote = Q.Out;
  private m = M.None;
  private digits = 0;
  private value = 0;
  private binary = false;
  private nonSync = false;
  private prev = -1;
  // A CR may be the line end; remember the marker state just before it.
  private beforeCr: LiteralMarker | null = null;
  private lastWasCr = false;

  reset(): void {
    this.quote = Q.Out;
    this.m = M.None;
    this.prev = -1;
    this.lastWasCr = false;
    this.beforeCr = null;
  }

  feed(buf: Buffer, start = 0, end = buf.length): void {
    for (let i = start; i < end; i++) this.byte(buf[i]!);
  }

  /** The marker ending the bytes fed so far (a final CR is taken as part of the line end). */
  result(): LiteralMarker | null {
    if (this.lastWasCr) return this.beforeCr;
    return this.current();
  }

  private current(): LiteralMarker | null {
    if (this.m !== M.Done || this.quote !== Q.Out) return null;
    return { size: this.value, nonSync: this.nonSync, binary: this.binary };
  }

  private byte(b: number): void {
    if (b === CR) {
      this.beforeCr = this.current();
      this.lastWasCr = true;
    } else {
      this.lastWasCr = false;
    }
    const prev = this.prev;
    this.prev = b;
    if (this.quote === Q.In) {
      if (b === BACKSLASH) this.quote = Q.Escape;
      else if (b === DQUOTE) this.quote = Q.Out;
      return;
    }
    if (this.quote === Q.Escape) {
      this.quote = Q.In;
      return;
    }
    if (b === DQUOTE) {
      this.quote = Q.In;
      this.m = M.None;
      return;
    }
    if (b === LBRACE) {
      this.m = M.Digits;
      this.digits = 0;
      this.value = 0;
      this.nonSync = false;
      this.binary = prev === TILDE;
      return;
    }
    if (this.m === M.Digits && b >= 0x30 && b <= 0x39) {
      this.digits++;
      // Anything beyond 15 digits exceeds every limit; keep it from losing precision.
      this.value = this.digits > 15 ? Number.MAX_SAFE_INTEGER : this.value * 10 + (b - 0x30);
      return;
    }
    if (this.m === M.Digits && b === PLUS && this.digits > 0) {
      this.m = M.Plus;
      this.nonSync = true;
      return;
    }
    if ((this.m === M.Digits || this.m === M.Plus) && b === RBRACE && this.digits > 0) {
      this.m = M.Done;
      return;
    }
    this.m = M.None;
  }
}
