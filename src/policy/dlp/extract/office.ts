/**
 * Text of office documents, which are ZIP packages of XML: Word (document,
 * headers, footers, footnotes, endnotes, comments), Excel (shared strings,
 * inline strings and numbers — card numbers are often stored as numbers),
 * PowerPoint (slides, notes) and OpenDocument (content.xml). Each XML part is
 * read in one linear pass (xml.ts); paragraphs and rows end lines, tabs and
 * cells become tabs.
 */
import type { ZipListing } from '../../av/zip.js';
import type { Collector } from './collector.js';
import { attr, local, readXml, type XmlHandler } from './xml.js';
import { readEntry } from './zipread.js';

export type OfficeKind = 'docx' | 'xlsx' | 'pptx' | 'odf';

/** Which office format a package is, by the parts it has; null for a plain archive. */
export function officeKind(entries: readonly ZipListing[]): OfficeKind | null {
  const names = new Set(entries.map((e) => e.name));
  if (names.has('word/document.xml')) return 'docx';
  if (names.has('xl/workbook.xml')) return 'xlsx';
  if (names.has('ppt/presentation.xml')) return 'pptx';
  if (names.has('content.xml') && names.has('mimetype')) return 'odf';
  return null;
}

/** Numeric order for slide1, slide2, ..., slide10. */
function byNumber(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function partsOf(kind: OfficeKind, entries: readonly ZipListing[]): ZipListing[] {
  const pick = (re: RegExp) => entries.filter((e) => re.test(e.name)).sort((a, b) => byNumber(a.name, b.name));
  switch (kind) {
    case 'docx':
      return [
        ...pick(/^word\/document\.xml$/),
        ...pick(/^word\/header\d*\.xml$/),
        ...pick(/^word\/footer\d*\.xml$/),
        ...pick(/^word\/(footnotes|endnotes|comments)\.xml$/),
      ];
    case 'pptx':
      return [...pick(/^ppt\/slides\/slide\d+\.xml$/), ...pick(/^ppt\/notesSlides\/notesSlide\d+\.xml$/)];
    case 'odf':
      return pick(/^content\.xml$/);
    case 'xlsx':
      return pick(/^xl\/worksheets\/[^/]+\.xml$/);
  }
}

/** Collects text up to `max` characters (one more than the budget, so the collector sees the overflow). */
class Sink {
  private readonly parts: string[] = [];
  length = 0;
  constructor(private readonly max: number) {}
  push(s: string): void {
    if (this.length >= this.max || s.length === 0) return;
    this.parts.push(s);
    this.length += s.length;
  }
  get done(): boolean {
    return this.length >= this.max;
  }
  /** Ends a line unless the text already ends one. */
  line(): void {
    const last = this.parts[this.parts.length - 1];
    if (last !== undefined && !last.endsWith('\n')) this.push('\n');
  }
  toString(): string {
    const s = this.parts.join('');
    return s.length > this.max ? s.slice(0, this.max) : s;
  }
}

interface RunStyle {
  /** Elements whose character data is text (null: all character data). */
  readonly text: ReadonlySet<string> | null;
  readonly para: ReadonlySet<string>;
  readonly br: ReadonlySet<string>;
  /** Elements that are a tab character (self-closing). */
  readonly tab: ReadonlySet<string>;
  /** ODF's <text:s/>: a space. */
  readonly space: ReadonlySet<string>;
  /** Table rows and cells: a row per line, a tab between cells, a cell's paragraphs joined by spaces. */
  readonly row: string;
  readonly cell: string;
}

const STYLES: Record<'docx' | 'pptx' | 'odf', RunStyle> = {
  docx: { text: new Set(['t', 'delText']), para: new Set(['p']), br: new Set(['br', 'cr']), tab: new Set(['tab']), space: new Set(), row: 'tr', cell: 'tc' },
  pptx: { text: new Set(['t']), para: new Set(['p']), br: new Set(['br']), tab: new Set(), space: new Set(), row: 'tr', cell: 'tc' },
  odf: { text: null, para: new Set(['p', 'h']), br: new Set(['line-break']), tab: new Set(['tab']), space: new Set(['s']), row: 'table-row', cell: 'table-cell' },
};

/** Word, PowerPoint and OpenDocument text: character data of the text elements, with line breaks and tabs. */
function runText(xml: string, style: RunStyle, out: Sink): void {
  let inText = 0;
  // In docx a <w:tab/> inside <w:tabs> (paragraph properties) is a tab stop, not a tab.
  let inProps = 0;
  let inCell = 0;
  let firstCell = true;
  // A cell's paragraphs are joined by a space, put down only when more text follows.
  let pendingSpace = false;
  const h: XmlHandler = {
    open(name, _attrs, selfClosing) {
      const l = local(name);
      if (l === 'tabs' || l === 'pPr' || l === 'rPr') {
        if (!selfClosing) inProps++;
        return;
      }
      if (inProps > 0) return;
      if (style.text?.has(l) && !selfClosing) inText++;
      else if (l === style.cell) {
        if (!firstCell) out.push('\t');
        firstCell = false;
        pendingSpace = false;
        if (!selfClosing) inCell++;
      } else if (l === style.row) {
        out.line();
        firstCell = true;
      } else if (style.br.has(l)) out.push('\n');
      else if (style.tab.has(l) && selfClosing) out.push('\t');
      else if (style.space.has(l)) out.push(' ');
    },
    close(name) {
      const l = local(name);
      if (l === 'tabs' || l === 'pPr' || l === 'rPr') inProps = Math.max(0, inProps - 1);
      else if (style.text?.has(l)) inText = Math.max(0, inText - 1);
      else if (l === style.cell) {
        inCell = Math.max(0, inCell - 1);
        pendingSpace = false;
      } else if (l === style.row) {
        out.line();
        firstCell = true;
      } else if (style.para.has(l)) {
        if (inCell > 0) pendingSpace = true;
        else out.line();
      }
    },
    text(s) {
      if (style.text === null ? s.trim().length === 0 && s.length >= 4 : inText === 0) return;
      if (pendingSpace) out.push(' ');
      pendingSpace = false;
      out.push(s);
    },
    done: () => out.done,
  };
  readXml(xml, h);
}

/** The shared strings of a workbook, in order (rich-text runs joined, phonetic hints left out). */
function sharedStrings(xml: string, max: number): string[] {
  const out: string[] = [];
  let cur: string[] | null = null;
  let inT = 0;
  let inPhonetic = 0;
  let chars = 0;
  readXml(xml, {
    open(name, _a, selfClosing) {
      const l = local(name);
      if (l === 'si' && !selfClosing) cur = [];
      else if (l === 'si') out.push('');
      else if (l === 'rPh' && !selfClosing) inPhonetic++;
      else if (l === 't' && !selfClosing) inT++;
    },
    close(name) {
      const l = local(name);
      if (l === 'si' && cur) {
        out.push(cur.join(''));
        cur = null;
      } else if (l === 'rPh') inPhonetic = Math.max(0, inPhonetic - 1);
      else if (l === 't') inT = Math.max(0, inT - 1);
    },
    text(s) {
      if (cur && inT > 0 && inPhonetic === 0) {
        cur.push(s);
        chars += s.length;
      }
    },
    done: () => chars > max,
  });
  return out;
}

/** A number cell's text: integers written in full (Excel may store 4111111111111111 as 4.111111111111111E+15). */
export function numberText(v: string): string {
  const t = v.trim();
  if (!/[eE]/.test(t)) return t;
  const n = Number(t);
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? BigInt(n).toString() : t;
}

/** A worksheet's cells, a row per line and a tab between cells. */
function sheetText(xml: string, strings: readonly string[], out: Sink): void {
  let type = '';
  let value: string[] | null = null;
  let inline: string[] | null = null;
  let first = true;
  readXml(xml, {
    open(name, attrs, selfClosing) {
      const l = local(name);
      if (l === 'c') {
        type = attr(attrs, 't') ?? 'n';
        value = null;
        inline = null;
      } else if (l === 'v' && !selfClosing) value = [];
      else if (l === 'is' && !selfClosing) inline = [];
    },
    close(name) {
      const l = local(name);
      if (l === 'c') {
        let text = '';
        if (inline) text = inline.join('');
        else if (value) {
          const v = value.join('');
          if (type === 's') text = strings[Number.parseInt(v, 10)] ?? '';
          else if (type === 'n') text = numberText(v);
          else if (type !== 'b' && type !== 'e') text = v;
        }
        if (text) {
          if (!first) out.push('\t');
          out.push(text);
          first = false;
        }
        value = null;
        inline = null;
      } else if (l === 'row') {
        out.line();
        first = true;
      }
    },
    text(s) {
      if (inline) inline.push(s);
      else if (value) value.push(s);
    },
    done: () => out.done,
  });
}

const utf8 = new TextDecoder('utf-8');

/** The document's text (null when a part could not be read: a finding says why). */
export function officeText(c: Collector, kind: OfficeKind, data: Uint8Array, entries: readonly ZipListing[], source: string): string | null {
  const out = new Sink(c.room + 1);
  const read = (e: ZipListing): string | null => {
    const b = readEntry(c, data, e, source);
    return b ? utf8.decode(b) : null;
  };
  let strings: string[] = [];
  if (kind === 'xlsx') {
    const ss = entries.find((e) => e.name === 'xl/sharedStrings.xml');
    const xml = ss ? read(ss) : '';
    if (xml === null) return null;
    strings = sharedStrings(xml, c.room + 1);
  }
  let readAny = false;
  for (const e of partsOf(kind, entries)) {
    if (out.done) break;
    const xml = read(e);
    if (xml === null) continue;
    readAny = true;
    if (kind === 'xlsx') sheetText(xml, strings, out);
    else runText(xml, STYLES[kind], out);
    out.line();
  }
  // A workbook whose sheets could not be read still shows its strings.
  if (kind === 'xlsx' && !readAny) out.push(strings.join('\n'));
  return out.toString();
}
