/** FETCH responses: "* n FETCH (item value ...)", with Buffers sent as literals and never copied. */
import type { BodySection, FetchAtt } from '../ast.js';
import { isAstringChar } from '../cursor.js';
import { formatInternalDate } from '../date.js';
import { quote, ResponseWriter, type EncodeOptions, type ImapValue } from './value.js';

/** One response item: its name as fetchItemName() gives it, and its value. */
export type FetchResponseItem = readonly [name: string, value: ImapValue];

function headerFieldName(name: string): string {
  const bytes = Buffer.from(name, 'utf8');
  return bytes.length > 0 && [...bytes].every(isAstringChar) ? name : quote(name.replace(/[\r\n\0]/g, ''));
}

/** "1.2.HEADER.FIELDS (From To)" */
export function sectionSpec(s: BodySection): string {
  let out = s.part.join('.');
  if (s.text !== null) out += (out.length > 0 ? '.' : '') + s.text;
  if (s.text === 'HEADER.FIELDS' || s.text === 'HEADER.FIELDS.NOT') out += ` (${s.fields.map(headerFieldName).join(' ')})`;
  return out;
}

/**
 * The name a FETCH response uses for a requested item: BODY.PEEK[...] is
 * answered as BODY[...], and a partial as <origin> only (RFC 9051 7.5.2).
 */
export function fetchItemName(att: FetchAtt): string {
  switch (att.name) {
    case 'BODY[]':
      return `BODY[${sectionSpec(att.section)}]${att.partial ? `<${att.partial.offset}>` : ''}`;
    case 'BINARY[]':
      return `BINARY[${att.part.join('.')}]${att.partial ? `<${att.partial.offset}>` : ''}`;
    case 'BINARY.SIZE':
      return `BINARY.SIZE[${att.part.join('.')}]`;
    default:
      return att.name;
  }
}

/** The INTERNALDATE value: a quoted date-time. */
export function internalDateValue(date: Date, zoneMinutes = 0): string {
  return formatInternalDate(date, zoneMinutes);
}

/** The MODSEQ value: "(n)". */
export function modseqValue(modseq: bigint | number): ImapValue {
  return [modseq];
}

/**
 * "* seq FETCH (name value name value ...)\r\n" as Buffers to write in order.
 * Buffer values (message data) become literals; use literal(data, true) for BINARY[] data with NUL.
 */
export function fetchResponse(seq: number, items: readonly FetchResponseItem[], options: EncodeOptions = {}): Buffer[] {
  const w = new ResponseWriter(options).write(`* ${seq} FETCH (`);
  items.forEach(([name, value], i) => {
    w.write(i > 0 ? ` ${name} ` : `${name} `);
    w.value(value);
  });
  return w.write(')\r\n').buffers();
}
