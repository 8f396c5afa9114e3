/**
 * A linear, forgiving XML tokenizer for office documents: one pass with
 * indexOf, no DOM, no regular expressions over the input, no entity
 * definitions honoured (a DOCTYPE is skipped, so no entity expansion bomb).
 * It hands element starts/ends and character data to a handler; the office
 * formats decide which text to keep.
 */

export interface XmlHandler {
  /** An element starts; `attrs` is the raw attribute text (read with attr()). */
  open(name: string, attrs: string, selfClosing: boolean): void;
  close(name: string): void;
  /** Character data, entities decoded. */
  text(s: string): void;
  /** True to stop reading (a budget was reached). */
  done(): boolean;
}

const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the five XML entities and character references; anything else is left as written. */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const amp = s.indexOf('&', i);
    if (amp < 0) break;
    out += s.slice(i, amp);
    // References are short: look a few characters ahead only, so a run of '&' stays linear.
    const semi = s.slice(amp, amp + 12).indexOf(';');
    const name = semi > 0 ? s.slice(amp + 1, amp + semi) : '';
    let rep: string | undefined = NAMED[name];
    if (rep === undefined && name.startsWith('#')) {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (Number.isFinite(code) && code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)) rep = String.fromCodePoint(code);
    }
    if (rep === undefined) {
      out += '&';
      i = amp + 1;
    } else {
      out += rep;
      i = amp + semi + 1;
    }
  }
  return out + s.slice(i);
}

/** The end of a tag starting at `lt` ('>' outside quotes), or -1. One pass over the tag's own characters. */
function tagEnd(xml: string, lt: number): number {
  let quote = 0;
  for (let i = lt + 1; i < xml.length; i++) {
    const c = xml.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) quote = c;
    else if (c === 0x3e) return i;
  }
  return -1;
}

/** Reads `xml` from start to end (or until the handler is done). */
export function readXml(xml: string, h: XmlHandler): void {
  let i = 0;
  const n = xml.length;
  while (i < n && !h.done()) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) {
      h.text(decodeEntities(xml.slice(i)));
      return;
    }
    if (lt > i) h.text(decodeEntities(xml.slice(i, lt)));
    if (xml.startsWith('<!--', lt)) {
      const e = xml.indexOf('-->', lt + 4);
      if (e < 0) return;
      i = e + 3;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const e = xml.indexOf(']]>', lt + 9);
      if (e < 0) return;
      h.text(xml.slice(lt + 9, e));
      i = e + 3;
    } else if (xml.startsWith('<?', lt)) {
      const e = xml.indexOf('?>', lt + 2);
      if (e < 0) return;
      i = e + 2;
    } else {
      const gt = tagEnd(xml, lt);
      if (gt < 0) return;
      if (xml[lt + 1] === '!') {
        // A DOCTYPE (an internal subset's brackets are not followed: its entities are not used anyway).
        i = gt + 1;
        continue;
      }
      const closing = xml[lt + 1] === '/';
      const selfClosing = xml[gt - 1] === '/';
      const body = xml.slice(closing ? lt + 2 : lt + 1, selfClosing ? gt - 1 : gt);
      let sp = 0;
      while (sp < body.length && !isSpace(body.charCodeAt(sp))) sp++;
      const name = body.slice(0, sp);
      if (closing) h.close(name);
      else {
        h.open(name, body.slice(sp), selfClosing);
        if (selfClosing) h.close(name);
      }
      i = gt + 1;
    }
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** The value of attribute `name` in raw attribute text (a linear scan), or null. */
export function attr(attrs: string, name: string): string | null {
  let i = 0;
  const n = attrs.length;
  while (i < n) {
    while (i < n && (isSpace(attrs.charCodeAt(i)) || attrs[i] === '/')) i++;
    const eq = attrs.indexOf('=', i);
    if (eq < 0) return null;
    const key = attrs.slice(i, eq).trim();
    let v = eq + 1;
    while (v < n && isSpace(attrs.charCodeAt(v))) v++;
    const q = attrs[v];
    if (q !== '"' && q !== "'") return null;
    const end = attrs.indexOf(q, v + 1);
    if (end < 0) return null;
    if (key === name) return decodeEntities(attrs.slice(v + 1, end));
    i = end + 1;
  }
  return null;
}

/** The local part of a qualified name ("w:t" → "t"). */
export function local(name: string): string {
  const c = name.indexOf(':');
  return c < 0 ? name : name.slice(c + 1);
}
