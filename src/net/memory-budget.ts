/**
 * One process-wide budget for message bytes held in memory while they are
 * received (SMTP DATA, IMAP APPEND literals). Every listener draws on the same
 * budget, so the total stays bounded whatever the number of connections times
 * the message size limit. A holder reserves as bytes arrive and gives back
 * everything it holds at once, however its transfer ended.
 */
export class MemoryBudget {
  private inUse = 0;
  private peakInUse = 0;

  /** `total` in bytes; Infinity for no limit. */
  constructor(readonly total: number) {
    if (!(total > 0)) throw new RangeError(`memory budget must be positive, got ${total}`);
  }

  /** Bytes reserved right now. */
  get used(): number {
    return this.inUse;
  }

  /** Highest `used` seen since start. */
  get peak(): number {
    return this.peakInUse;
  }

  /** Takes `bytes` if they fit; false (and nothing taken) otherwise. */
  tryReserve(bytes: number): boolean {
    if (bytes < 0 || this.inUse + bytes > this.total) return false;
    this.inUse += bytes;
    if (this.inUse > this.peakInUse) this.peakInUse = this.inUse;
    return true;
  }

  release(bytes: number): void {
    this.inUse -= bytes;
    if (this.inUse < 0) {
      // A holder gave back more than it took: clamp so the budget stays usable, and say so.
      this.inUse = 0;
      throw new RangeError('memory budget released more than was reserved');
    }
  }

  /** A holder for one transfer: reserve() as bytes arrive, releaseAll() on every way out. */
  holder(): BudgetHold {
    return new BudgetHold(this);
  }
}

export class BudgetHold {
  private heldBytes = 0;

  constructor(private readonly budget: MemoryBudget) {}

  get held(): number {
    return this.heldBytes;
  }

  reserve(bytes: number): boolean {
    if (!this.budget.tryReserve(bytes)) return false;
    this.heldBytes += bytes;
    return true;
  }

  /** Gives back part of what is held (e.g. a copy that is no longer referenced). */
  release(bytes: number): void {
    const n = Math.min(bytes, this.heldBytes);
    this.heldBytes -= n;
    this.budget.release(n);
  }

  /** Gives back everything; safe to call more than once. */
  releaseAll(): void {
    this.release(this.heldBytes);
  }
}
