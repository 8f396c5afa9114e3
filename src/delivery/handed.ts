/**
 * Leases an agent is handed by another part of the server (the scanner's
 * scans from the spool, local delivery's recipients from the scanner) beside
 * those it leases from the store itself. Handed leases go first. While they
 * come, the store is asked only when told (`due`), after a lease from it
 * came back full (more may wait behind it), and at least every `pollMs`
 * (retries that came due, leases that expired elsewhere), so a steady stream
 * of hand-overs starves nothing and costs no store query each; without
 * hand-overs, on every lease. A handed lease already expired is left to the
 * store, which may have leased it again.
 */
export class HandedLeases<L extends { readonly until: number }> {
  private handed: L[] = [];
  /** When the store was last asked, and when leases were last handed over (performance.now()). */
  private askedAt = -Infinity;
  private handedAt = -Infinity;
  private storeDue = false;

  constructor(
    private readonly pollMs: number,
    /** Leases at most `limit` of what is due in the store. */
    private readonly fromStore: (now: number, limit: number) => Promise<L[]>,
  ) {}

  /** Takes leases handed over, oldest first. */
  add(leases: readonly L[]): void {
    this.handed.push(...leases);
    this.handedAt = performance.now();
  }

  /** The store may hold leases due now: the next `take` asks it. */
  due(): void {
    this.storeDue = true;
  }

  /** At most `limit` leases: those handed over first, then the store's when it is to be asked. */
  async take(now: number, limit: number): Promise<L[]> {
    const out: L[] = [];
    while (out.length < limit && this.handed.length > 0) {
      const l = this.handed.shift()!;
      if (l.until > now) out.push(l);
    }
    const t = performance.now();
    const ask = this.storeDue || t - this.handedAt >= this.pollMs || t - this.askedAt >= this.pollMs;
    if (out.length < limit && ask) {
      this.storeDue = false;
      this.askedAt = t;
      const want = limit - out.length;
      const taken = await this.fromStore(now, want);
      if (taken.length === want) this.storeDue = true;
      out.push(...taken);
    }
    return out;
  }
}
