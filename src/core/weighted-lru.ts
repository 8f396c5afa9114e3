/**
 * A map bounded by the total weight of its values (bytes, messages), least
 * recently used out first: Map keeps insertion order, so a use moves the
 * entry to the end and eviction takes from the front.
 */
export class WeightedLru<K, V> {
  private readonly entries = new Map<K, V>();
  private held = 0;

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
    for (const [old, v] of this.entries) {
      if (this.held <= this.limit) break;
      this.entries.delete(old);
      this.held -= this.weight(v);
    }
  }

  delete(key: K): void {
    const v = this.entries.get(key);
    if (v === undefined) return;
    this.entries.delete(key);
    this.held -= this.weight(v);
  }

  clear(): void {
    this.entries.clear();
    this.held = 0;
  }
}
