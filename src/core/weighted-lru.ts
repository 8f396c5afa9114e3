/**
 * A map bounded by the total weight of its values (bytes, messages), least
 * recently used out first: Map keeps insertion order, so a use moves the
 * entry to the end and eviction takes from the front.
 */
export class WeightedLru<K, V> {
  private readonly entries = new Map<K, V>();
  private held = 0;
  /**
   * Where eviction goes on. A new iterator would start at the front of the
   * Map's table and step over every entry deleted since the table was last
   * rebuilt (each eviction and each use leaves one), which made an eviction
   * cost thousands of steps in a full cache; this one only moves forward.
   * Everything before it has been deleted, so its next entry is the oldest.
   */
  private cursor: Iterator<[K, V]> | null = null;

  constructor(
    readonly limit: number,
    private readonly weight: (value: V) => number,
  ) {}

  /** Total weight held. */
  get total(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, now the most recently used; undefined when absent. */
  use(key: K): V | undefined {
    const v = this.entries.get(key);
    if (v === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, v);
    return v;
  }

  /** Stores the value (replacing any), then drops the least recently used while over the limit. */
  set(key: K, value: V): void {
    this.delete(key);
    this.entries.set(key, value);
    this.held += this.weight(value);
    while (this.held > this.limit) {
      const oldest = this.oldest();
      if (!oldest) break;
      this.entries.delete(oldest[0]);
      this.held -= this.weight(oldest[1]);
    }
  }

  private oldest(): [K, V] | undefined {
    // A finished iterator stays finished: entries added after it ran out need a new one.
    for (let tries = 0; tries < 2; tries++) {
      this.cursor ??= this.entries.entries();
      const next = this.cursor.next();
      if (!next.done) return next.value;
      this.cursor = null;
    }
    return undefined;
  }

  delete(key: K): void {
    const v = this.entries.get(key);
    if (v === undefined) return;
    this.entries.delete(key);
    this.held -= this.weight(v);
  }

  clear(): void {
    this.entries.clear();
    this.cursor = null;
    this.held = 0;
  }
}
