/**
 * Runs `fn` over `items` with at most `count` calls under way and, beyond
 * the first, at most `bytes` of their summed `weight` (so a batch of large
 * messages is not all held in memory at once). Results keep the items'
 * order; `fn` should report its own failures in its result (one that throws
 * rejects the whole run).
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limits: { count: number; bytes: number },
  weight: (item: T) => number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let running = 0;
  let held = 0;
  return new Promise<R[]>((resolve, reject) => {
    const pump = (): void => {
      if (next >= items.length && running === 0) return resolve(out);
      while (next < items.length && running < limits.count) {
        const i = next;
        const w = Math.max(0, weight(items[i]!));
        if (running > 0 && held + w > limits.bytes) break;
        next++;
        running++;
        held += w;
        fn(items[i]!).then((r) => {
          out[i] = r;
          running--;
          held -= w;
          pump();
        }, reject);
      }
    };
    pump();
  });
}

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
