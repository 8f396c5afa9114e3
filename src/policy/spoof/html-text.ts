/**
 * HTML to text for phrase matching: one linear pass, no regex over the
 * markup. Drops tags, comments and the content of <script>/<style>, decodes
 * a few common entities. Good enough to read words; not a renderer.
 */

const ENTITIES: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ',
  auml: 'ä', ouml: 'ö', uuml: 'ü', Auml: 'Ä', Ouml: 'Ö', Uuml: 'Ü', szlig: 'ß', euro: '€',
};

function entity(html: string, i: number): { text: string; next: number } | null {
  // Look a few characters ahead only: a body of "&" without ";" must stay linear.
  const at = html.slice(i, i + 12).indexOf(';');
  if (at < 0) return null;
  const semi = i + at;
  const name = html.slice(i + 1, semi);
  if (name.startsWith('#')) {
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff) return null;
    return { text: String.fromCodePoint(code), next: semi + 1 };
  }
  const t = ENTITIES[name];
  return t === undefined ? null : { text: t, next: semi + 1 };
}

/** Where `</name` next starts (case-blind) at or after `from`; the end when none. */
function closingTag(html: string, from: number, name: string): number {
  for (let at = html.indexOf('</', from); at >= 0; at = html.indexOf('</', at + 2)) {
    if (html.slice(at + 2, at + 2 + name.length).toLowerCase() === name) return at;
  }
  return html.length;
}

/** Text of `html`, at most `max` characters. */
export function htmlToText(html: string, max: number): string {
  let out = '';
  let i = 0;
  const n = html.length;
  while (i < n && out.length < max) {
    const c = html[i]!;
    if (c === '<') {
      if (html.startsWith('<!--', i)) {
        const end = html.indexOf('-->', i + 4);
        i = end < 0 ? n : end + 3;
        continue;
      }
      const close = html.indexOf('>', i + 1);
      if (close < 0) break;
      const tag = html.slice(i + 1, Math.min(close, i + 12)).toLowerCase();
      i = close + 1;
      for (const skip of ['script', 'style']) {
        if (tag.startsWith(skip)) {
          i = closingTag(html, i, skip);
        }
      }
      out += ' ';
      continue;
    }
    if (c === '&') {
      const e = entity(html, i);
      if (e) {
        out += e.text;
        i = e.next;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out.length > max ? out.slice(0, max) : out;
}
