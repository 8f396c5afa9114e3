/**
 * Substring search in time linear in text plus needle. V8's
 * String.prototype.includes degrades to text x needle on inputs such as a
 * body of ("a" x 999 + "b") repeated searched for "a" x 1000 (about 23 s for
 * 4 MB and a 16,000-character needle): SEARCH BODY would hand any client that
 * many seconds of the event loop. Short needles keep the native search, whose
 * worst case is then bounded by a small constant per character.
 */
const NATIVE_MAX = 64;

export function includesLinear(text: string, needle: string): boolean {
  const m = needle.length;
  if (m <= NATIVE_MAX) return text.includes(needle);
  if (m > text.length) return false;
  // Knuth-Morris-Pratt over UTF-16 code units.
  const fail = new Int32Array(m);
  for (let i = 1, k = 0; i < m; i++) {
    const c = needle.charCodeAt(i);
    while (k > 0 && needle.charCodeAt(k) !== c) k = fail[k - 1]!;
    if (needle.charCodeAt(k) === c) k++;
    fail[i] = k;
  }
  for (let i = 0, k = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    while (k > 0 && needle.charCodeAt(k) !== c) k = fail[k - 1]!;
    if (needle.charCodeAt(k) === c && ++k === m) return true;
  }
  return false;
}
