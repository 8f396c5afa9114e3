/**
 * An independent reading of one IMAP response (RFC 9051 section 4): quoted
 * strings, literals and parenthesised lists. Used to check that whatever
 * stored mail holds, an encoded response is exactly one response: no line
 * break outside a literal, lists balanced, literal lengths true.
 */
export function wireProblem(resp: Buffer): string | null {
  let depth = 0;
  let i = 0;
  const n = resp.length;
  if (n < 2 || resp[n - 2] !== 0x0d || resp[n - 1] !== 0x0a) return 'does not end with CRLF';
  while (i < n) {
    const c = resp[i]!;
    if (c === 0x22) {
      for (i++; ; i++) {
        if (i >= n) return 'unterminated quoted string';
        const q = resp[i]!;
        if (q === 0x0d || q === 0x0a || q === 0) return `CR, LF or NUL inside a quoted string at ${i}`;
        if (q === 0x5c) {
          if (resp[i + 1] !== 0x22 && resp[i + 1] !== 0x5c) return `bad escape in a quoted string at ${i}`;
          i++;
        } else if (q === 0x22) break;
      }
      i++;
      continue;
    }
    if (c === 0x7b) {
      const m = /^\{(\d+)\+?\}\r\n/.exec(resp.toString('latin1', i, Math.min(n, i + 24)));
      if (!m) return `"{" that starts no literal at ${i}`;
      i += m[0].length + Number(m[1]);
      if (i > n - 2) return 'literal runs past the end of the response';
      continue;
    }
    if (c === 0x28) depth++;
    else if (c === 0x29 && --depth < 0) return `unbalanced ")" at ${i}`;
    else if (c === 0x0d || c === 0x0a) {
      if (i === n - 2 && c === 0x0d) break;
      return `line break outside a literal at ${i}`;
    } else if (c === 0) return `NUL outside a literal at ${i}`;
    i++;
  }
  return depth === 0 ? null : `${depth} unclosed "("`;
}
