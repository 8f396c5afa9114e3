/** Longest string remembered (a domain name's limit). */
const MAX_KEY = 255;

/**
 * Remembers the results of a pure function of one string. The domain forms
 * (IDNA, public suffix) and skeletons were computed afresh for the same few
 * domains on every message. The map is bounded: when full it starts over,
 * so a stream of distinct domains costs what it cost before, never memory.
 */
export function memoized<T>(fn: (s: string) => T, max = 4096): (s: string) => T {
  const seen = new Map<string, T>();
  return (s: string): T => {
    // Longer strings (no domain is) are computed each time: the map stays under max × MAX_KEY characters.
    if (s.length > MAX_KEY) return fn(s);
    const hit = seen.get(s);
    if (hit !== undefined || seen.has(s)) return hit as T;
    const v = fn(s);
    if (seen.size >= max) seen.clear();
    seen.set(s, v);
    return v;
  };
}
