/**
 * HTML to text for detectors (DLP, the spoof phrases): one linear pass, no DOM, no regular
 * expressions over the markup. Tags go, the content of <script>, <style>,
 * <head> goes, block tags become line breaks (so a number in one table cell
 * does not run into the next), table cells become tabs, entities are
 * decoded (numeric and the common named ones). Hidden text is kept: a
 * detector should see what a recipient's tools can see.
 */

const ENTITIES: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', shy: '', ensp: ' ', emsp: ' ', thinsp: ' ', zwnj: '', zwj: '',
  copy: '©', reg: '®', trade: '™', euro: '€', pound: '£', yen: '¥', cent: '¢', sect: '§', para: '¶', deg: '°', middot: '·',
  ndash: '–', mdash: '—', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»', hellip: '…', bull: '•',
  times: '×', divide: '÷', plusmn: '±', micro: 'µ', iexcl: '¡', iquest: '¿', ordf: 'ª', ordm: 'º',
  auml: 'ä', ouml: 'ö', uuml: 'ü', Auml: 'Ä', Ouml: 'Ö', Uuml: 'Ü', szlig: 'ß', euml: 'ë', iuml: 'ï', yuml: 'ÿ',
  aacute: 'á', eacute: 'é', iacute: 'í', oacute: 'ó', uacute: 'ú', yacute: 'ý', Aacute: 'Á', Eacute: 'É', Iacute: 'Í', Oacute: 'Ó', Uacute: 'Ú',
  agrave: 'à', egrave: 'è', igrave: 'ì', ograve: 'ò', ugrave: 'ù', Agrave: 'À', Egrave: 'È',
  acirc: 'â', ecirc: 'ê', icirc: 'î', ocirc: 'ô', ucirc: 'û', Acirc: 'Â', Ecirc: 'Ê',
  atilde: 'ã', otilde: 'õ', ntilde: 'ñ', Ntilde: 'Ñ', ccedil: 'ç', Ccedil: 'Ç', aring: 'å', Aring: 'Å', aelig: 'æ', AElig: 'Æ',
  oslash: 'ø', Oslash: 'Ø', eth: 'ð', thorn: 'þ',
};

/** Elements whose content is not text a reader sees. */
const SKIP = ['script', 'style', 'head', 'title', 'template'];
const BLOCK = new Set(['p', 'br', 'div', 'tr', 'li', 'ul', 'ol', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'hr', 'dt', 'dd', 'section', 'article', 'header', 'footer']);
const CELL = new Set(['td', 'th']);
/** Formatting inside a word ("4111<b>1111</b>", "confi<span>dential</span>"): no space. */
const INLINE = new Set(['b', 'i', 'u', 's', 'em', 'strong', 'span', 'font', 'small', 'big', 'sub', 'sup', 'mark', 'code', 'abbr', 'wbr']);

function entity(html: string, i: number): { text: string; next: number } | null {
  // Look a few characters ahead only: a body of '&' without ';' stays linear.
  const at = html.slice(i, i + 12).indexOf(';');
  if (at < 0) return null;
  const semi = i + at;
  const name = html.slice(i + 1, semi);
  if (name.startsWith('#')) {
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return null;
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

/** The lower-cased element name of a tag's text ("p class=x" → "p", "/TD" → "td"). */
function tagName(tag: string): string {
  let i = tag[0] === '/' ? 1 : 0;
  const start = i;
  while (i < tag.length && /[A-Za-z0-9]/.test(tag[i]!)) i++;
  return tag.slice(start, i).toLowerCase();
}

/** Text of `html`, at most `max` characters. */
export function htmlToText(html: string, max: number): string {
  const parts: string[] = [];
  let len = 0;
  const push = (s: string) => {
    parts.push(s);
    len += s.length;
  };
  let i = 0;
  const n = html.length;
  // The next '<' and '&', searched again only once passed: a search per step would be quadratic.
  let lt = -2;
  let amp = -2;
  while (i < n && len < max) {
    if (lt !== -1 && lt < i) lt = html.indexOf('<', i);
    if (amp !== -1 && amp < i) amp = html.indexOf('&', i);
    const stop = Math.min(lt < 0 ? n : lt, amp < 0 ? n : amp);
    if (stop > i) {
      push(html.slice(i, stop));
      i = stop;
      continue;
    }
    if (html[i] === '&') {
      const e = entity(html, i);
      push(e ? e.text : '&');
      i = e ? e.next : i + 1;
      continue;
    }
    // "a < b" is text: a tag starts with a letter, '/', '!' or '?'.
    if (!/[A-Za-z/!?]/.test(html[i + 1] ?? '')) {
      push('<');
      i++;
      continue;
    }
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    const close = html.indexOf('>', i + 1);
    if (close < 0) break;
    const declaration = html[i + 1] === '!' || html[i + 1] === '?';
    const name = tagName(html.slice(i + 1, Math.min(close, i + 16)));
    const opening = html[i + 1] !== '/';
    i = close + 1;
    if (declaration) continue;
    if (opening && SKIP.includes(name)) {
      const end = closingTag(html, i, name);
      const gt = html.indexOf('>', end);
      i = gt < 0 ? n : gt + 1;
      continue;
    }
    if (BLOCK.has(name)) push('\n');
    else if (CELL.has(name)) push(opening ? '\t' : '');
    else if (!INLINE.has(name)) push(' ');
  }
  const out = parts.join('');
  return out.length > max ? out.slice(0, max) : out;
}
