/**
 * The queued messages' bytes, read once however many recipients in a batch
 * need them, and let go after the last of those has taken them.
 */
export class SharedReads {
  private readonly pending = new Map<string, { uses: number; bytes: Promise<Uint8Array> | null }>();

  constructor(private readonly read: (id: string) => Promise<Uint8Array>) {}

  /** Announces one more use of blob `id`. */
  want(id: string): void {
    const e = this.pending.get(id);
    if (e) e.uses++;
    else this.pending.set(id, { uses: 1, bytes: null });
  }

  /** Gives up one announced use without reading (the recipient failed before it needed the bytes). */
  forget(id: string): void {
    const e = this.pending.get(id);
    if (e && --e.uses <= 0) this.pending.delete(id);
  }

  /** The bytes for one announced use (read on the first). */
  take(id: string): Promise<Uint8Array> {
    const e = this.pending.get(id);
    if (!e) return this.read(id);
    e.bytes ??= this.read(id);
    // A failed read is not kept: the next recipient tries again.
    const bytes = e.bytes.catch((err: unknown) => {
      if (this.pending.get(id) === e) e.bytes = null;
      throw err;
    });
    if (--e.uses <= 0) this.pending.delete(id);
    return bytes;
  }
}

/**
 * A cap on the bytes held by work under way: `acquire(w)` waits until `w`
 * more fits (a first holder is let in however large, so nothing waits
 * forever), `release(w)` gives it back. Waiters are let in in turn.
 */
export class ByteBudget {
  private held = 0;
  private readonly waiting: { w: number; go: () => void }[] = [];

  constructor(private readonly cap: number) {}

  acquire(w: number): Promise<void> {
    const weight = Math.max(0, w);
    if (this.waiting.length === 0 && (this.held === 0 || this.held + weight <= this.cap)) {
      this.held += weight;
      return Promise.resolve();
    }
    return new Promise((go) => this.waiting.push({ w: weight, go }));
  }

  release(w: number): void {
    this.held -= Math.max(0, w);
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (this.held !== 0 && this.held + next.w > this.cap) break;
      this.waiting.shift();
      this.held += next.w;
      next.go();
    }
  }
}
