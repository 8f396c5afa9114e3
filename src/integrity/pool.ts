/**
 * Runs `fn` over `items` with at most `limit` calls in flight: enough reads
 * and fsyncs queued for the disk while the CPU verifies. Stops taking new
 * items once `stop()` says so; the ones in flight finish.
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop()) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** Default number of blobs handled at once by scrub, backup, verify and restore. */
export const DEFAULT_CONCURRENCY = 4;
