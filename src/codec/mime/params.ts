/**
 * Content-Type and Content-Disposition values: a main token and `; attr=value`
 * parameters (RFC 2045 section 5.1), with RFC 822 comments, quoted strings,
 * RFC 2231 continuations and charsets, and RFC 2047 words in values (common in
 * file names even though the RFCs forbid them there).
 */
import { decodeCharset } from './charset.js';
import { decodeEncodedWords } from './encoded-word.js';
import type { DefectCode, MimeParam } from './types.js';

export interface StructuredValue {
  /** The main value with comments and white space removed, e.g. `text/plain`. */
  readonly value: string;
  readonly params: MimeParam[];
  readonly defects: DefectCode[];
}

interface RawParam {
  attr: string;
  value: string;
}

const MAX_PARAMS = 256;
const MAX_SECTIONS = 1000;

/** Skips white space and (nested) comments from `i`; returns the new index. */
function skipCfws(s: string, i: number): number {
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') i++;
    else if (c === '(') {
      let depth = 0;
      for (; i < s.length; i++) {
        const d = s[i];
        if (d === '\\') i++;
        else if (d === '(') depth++;
        else if (d === ')' && --depth === 0) {
          i++;
          break;
        }
      }
    } else break;
  }
  return i;
}

function readQuoted(s: string, i: number): [string, number] {
  let out = '';
  for (i++; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) out += s[++i];
    else if (c === '"') return [out, i + 1];
    else out += c;
  }
  return [out, i];
}

/** Splits `main; a=b; c="d"` into the main value and raw attribute/value pairs. */
function tokenize(s: string): { main: string; raw: RawParam[]; defects: DefectCode[] } {
  const defects: DefectCode[] = [];
  let i = 0;
  let main = '';
  while (i < s.length && s[i] !== ';') {
    const j = skipCfws(s, i);
    if (j > i) {
      i = j;
      continue;
    }
    if (s[i] === '"') {
      const [q, k] = readQuoted(s, i);
      main += q;
      i = k;
    } else main += s[i++];
  }
  const raw: RawParam[] = [];
  while (i < s.length && raw.length < MAX_PARAMS) {
    i = skipCfws(s, i);
    if (s[i] === ';') {
      i = skipCfws(s, i + 1);
    } else if (i < s.length) defects.push('param-invalid'); // missing ';' between parameters
    let attr = '';
    while (i < s.length && !/[=;\s("]/.test(s[i]!)) attr += s[i++];
    i = skipCfws(s, i);
    if (s[i] !== '=') {
      if (attr) defects.push('param-invalid');
      while (i < s.length && s[i] !== ';') i++;
      continue;
    }
    i = skipCfws(s, i + 1);
    let value: string;
    if (s[i] === '"') {
      [value, i] = readQuoted(s, i);
    } else {
      // A token; lenient: up to ';' or a comment, so unquoted names with spaces survive.
      let j = i;
      while (j < s.length && s[j] !== ';' && s[j] !== '(') j++;
      // Trailing blanks cut by hand: /[ \t]+$/ is quadratic on a long run of blanks inside the value.
      let e = j;
      while (e > i && (s[e - 1] === ' ' || s[e - 1] === '\t')) e--;
      value = s.slice(i, e);
      i = j;
    }
    if (attr) raw.push({ attr: attr.toLowerCase(), value });
  }
  return { main, raw, defects };
}

function percentDecode(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s.slice(i + 1, i + 3);
    if (s[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else for (const b of Buffer.from(s[i]!, 'utf8')) out.push(b);
  }
  return out;
}

/** RFC 2231 attribute-char: what may stand unescaped in an extended value. */
function percentEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b > 0x20 && b < 0x7f && !/[*'%()<>@,;:\\"/[\]?=]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

interface Section {
  index: number;
  extended: boolean;
  value: string;
}

/** Joins RFC 2231 sections and plain parameters into decoded MimeParams. */
function assemble(raw: RawParam[], defects: DefectCode[]): MimeParam[] {
  const plain = new Map<string, string>();
  const sections = new Map<string, Section[]>();
  const order: string[] = [];
  for (const { attr, value } of raw) {
    // name* (extended), name*N (section), name*N* (extended section)
    const m = /^([^*]+)\*(\d{1,4})?(\*)?$/.exec(attr);
    if (m) {
      const base = m[1]!;
      const index = m[2] === undefined ? 0 : Number(m[2]);
      const extended = m[2] === undefined || m[3] === '*';
      let list = sections.get(base);
      if (!list) {
        list = [];
        sections.set(base, list);
        if (!plain.has(base)) order.push(base);
      }
      if (list.length >= MAX_SECTIONS || list.some((x) => x.index === index)) defects.push('param-duplicate');
      else list.push({ index, extended, value });
    } else if (plain.has(attr)) {
      defects.push('param-duplicate');
    } else {
      plain.set(attr, value);
      if (!sections.has(attr)) order.push(attr);
    }
  }
  const out: MimeParam[] = [];
  for (const name of order) {
    const list = sections.get(name);
    if (!list) {
      const v = plain.get(name)!;
      out.push({ name, value: decodeEncodedWords(v), imapName: name, imapValue: v });
      continue;
    }
    list.sort((a, b) => a.index - b.index);
    out.push(joinSections(name, list));
  }
  return out;
}

function joinSections(name: string, list: Section[]): MimeParam {
  const anyExtended = list.some((s) => s.extended);
  let charset: string | null = null;
  let prefix = '';
  const bytes: number[] = [];
  let wire = '';
  list.forEach((sec, k) => {
    let v = sec.value;
    if (k === 0 && sec.extended) {
      const m = /^([^']*)'([^']*)'(.*)$/s.exec(v);
      if (m) {
        charset = m[1] || null;
        prefix = `${m[1]}'${m[2]}'`;
        v = m[3]!;
      }
    }
    if (sec.extended) {
      for (const b of percentDecode(v)) bytes.push(b);
      wire += v;
    } else {
      for (const b of Buffer.from(v, 'utf8')) bytes.push(b);
      wire += anyExtended ? percentEncode(v) : v;
    }
  });
  const value = decodeCharset(Uint8Array.from(bytes), charset ?? 'utf-8');
  return anyExtended
    ? { name, value, imapName: `${name}*`, imapValue: prefix + wire }
    : { name, value: decodeEncodedWords(value), imapName: name, imapValue: wire };
}

/** Removes RFC 822 comments and surrounding white space, keeping quoted strings as written. */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === '(') {
      const j = skipCfws(text, i);
      out += ' ';
      i = j;
    } else if (text[i] === '"') {
      const j = readQuoted(text, i)[1];
      out += text.slice(i, j);
      i = j;
    } else out += text[i++];
  }
  return out.trim();
}

/** Parses a structured MIME header value. Never throws. */
export function parseStructuredValue(text: string): StructuredValue {
  const { main, raw, defects } = tokenize(text);
  const params = assemble(raw, defects);
  return { value: main.trim(), params, defects };
}

/** The decoded value of parameter `name` (lower-case), or null. */
export function paramValue(params: readonly MimeParam[], name: string): string | null {
  for (const p of params) if (p.name === name) return p.value;
  return null;
}
