/**
 * A queue of received chunks that hands out pieces without copying. Pieces are
 * views into the pushed Buffers, so callers that keep them keep those chunks.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0;
  private offset = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.size = 0;
  }

  /** Up to max bytes from the front (at most one chunk's worth), or null when empty. */
  take(max: number): Buffer | null {
    const c = this.chunks[this.head];
    if (!c || max <= 0) return null;
    const n = Math.min(max, c.length - this.offset);
    const piece = c.subarray(this.offset, this.offset + n);
    this.advance(n);
    return piece;
  }

  /** Drops up to max bytes; returns how many were dropped. */
  skip(max: number): number {
    let done = 0;
    while (done < max) {
      const c = this.chunks[this.head];
      if (!c) break;
      const n = Math.min(max - done, c.length - this.offset);
      this.advance(n);
      done += n;
    }
    return done;
  }

  /**
   * The bytes up to the next LF within the front chunk. found says whether the
   * LF was reached (it is consumed, not returned). piece is null when empty.
   */
  takeLine(): { piece: Buffer | null; found: boolean } {
    const c = this.chunks[this.head];
    if (!c) return { piece: null, found: false };
    const lf = c.indexOf(0x0a, this.offset);
    if (lf < 0) {
      const piece = c.subarray(this.offset);
      this.advance(piece.length);
      return { piece, found: false };
    }
    const piece = c.subarray(this.offset, lf);
    this.advance(piece.length + 1);
    return { piece, found: true };
  }

  private advance(n: number): void {
    this.offset += n;
    this.size -= n;
    const c = this.chunks[this.head];
    if (c && this.offset >= c.length) {
      this.head++;
      this.offset = 0;
      if (this.head >= this.chunks.length) {
        this.chunks = [];
        this.head = 0;
      } else if (this.head >= 64 && this.head * 2 >= this.chunks.length) {
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
    }
  }
}
