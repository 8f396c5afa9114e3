/** FETCH and UID FETCH (RFC 9051, BINARY RFC 3516, CONDSTORE/QRESYNC RFC 7162). */
import type { BodySection, FetchAtt, FetchPartial, ImapCommand, SectionText, SimpleFetchName } from '../ast.js';
import { type Cursor, isDigit, utf8 } from '../cursor.js';
import { fail } from '../errors.js';
import { sequenceSet } from './common.js';

const SIMPLE: readonly SimpleFetchName[] = [
  'FLAGS', 'INTERNALDATE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'UID', 'MODSEQ',
];

const FAST: FetchAtt[] = [{ name: 'FLAGS' }, { name: 'INTERNALDATE' }, { name: 'RFC822.SIZE' }];
export const FETCH_MACROS: Record<'ALL' | 'FAST' | 'FULL', readonly FetchAtt[]> = {
  FAST,
  ALL: [...FAST, { name: 'ENVELOPE' }],
  FULL: [...FAST, { name: 'ENVELOPE' }, { name: 'BODY' }],
};

const isNameChar = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || isDigit(b) || b === 0x2e;

/** section-part: nz-number *("." nz-number); stops before ".TEXT" style suffixes. */
function sectionPart(c: Cursor): number[] {
  const part = [c.nzNumber()];
  while (c.peek() === 0x2e && isDigit(c.peek(1))) {
    c.tryChar(0x2e);
    part.push(c.nzNumber());
  }
  return part;
}

/** "[" [section-spec] "]" */
function section(c: Cursor): BodySection {
  c.expect(0x5b, '"["');
  let part: number[] = [];
  let text: SectionText | null = null;
  let fields: string[] = [];
  if (isDigit(c.peek())) {
    part = sectionPart(c);
    if (c.tryChar(0x2e)) text = sectionText(c, true);
  } else if (c.peek() !== 0x5d) {
    text = sectionText(c, false);
  }
  if (text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') {
    c.sp();
    fields = c.list(() => utf8(c.astring(), 'header field name'), false);
  }
  c.expect(0x5d, '"]"');
  return { part, text, fields };
}

function sectionText(c: Cursor, afterPart: boolean): SectionText {
  const w = c.chars(isNameChar, 'section text').toUpperCase();
  if (w === 'HEADER' || w === 'HEADER.FIELDS' || w === 'HEADER.FIELDS.NOT' || w === 'TEXT') return w;
  if (w === 'MIME' && afterPart) return w;
  return fail(`Invalid section ${w.slice(0, 40)}`);
}

/** "[" [section-part] "]" for BINARY. */
function binarySection(c: Cursor): number[] {
  c.expect(0x5b, '"["');
  const part = c.peek() === 0x5d ? [] : sectionPart(c);
  c.expect(0x5d, '"]"');
  return part;
}

/** "<" number "." nz-number ">" */
function partial(c: Cursor): FetchPartial | null {
  if (!c.tryChar(0x3c)) return null;
  const offset = c.number();
  c.expect(0x2e, '"."');
  const length = c.nzNumber();
  c.expect(0x3e, '">"');
  return { offset, length };
}

/** One fetch-att (also read by NOTIFY's MessageNew, RFC 5465). */
export function fetchAtt(c: Cursor): FetchAtt {
  const name = c.chars(isNameChar, 'fetch item').toUpperCase();
  const bracket = c.peek() === 0x5b;
  if ((name === 'BODY' || name === 'BODY.PEEK') && bracket) {
    const s = section(c);
    return { name: 'BODY[]', peek: name === 'BODY.PEEK', section: s, partial: partial(c) };
  }
  if ((name === 'BINARY' || name === 'BINARY.PEEK') && bracket) {
    const part = binarySection(c);
    return { name: 'BINARY[]', peek: name === 'BINARY.PEEK', part, partial: partial(c) };
  }
  if (name === 'BINARY.SIZE' && bracket) return { name: 'BINARY.SIZE', part: binarySection(c) };
  if ((SIMPLE as readonly string[]).includes(name)) return { name: name as SimpleFetchName };
  return fail(`Unknown fetch item ${name.slice(0, 40)}`);
}

/** FETCH SP sequence-set SP (macro / fetch-att / "(" fetch-att *(SP fetch-att) ")") [SP fetch-modifiers]. */
export function parseFetch(c: Cursor, tag: string, uid: boolean): ImapCommand {
  c.sp();
  const set = sequenceSet(c);
  c.sp();
  let macro: 'ALL' | 'FAST' | 'FULL' | null = null;
  let items: FetchAtt[];
  if (c.peek() === 0x28) {
    items = c.list(() => fetchAtt(c), false);
  } else {
    const w = c.peekWord();
    if (w === 'ALL' || w === 'FAST' || w === 'FULL') {
      c.tryWord(w);
      macro = w;
      items = [...FETCH_MACROS[w]];
    } else {
      items = [fetchAtt(c)];
    }
  }
  let changedSince: bigint | null = null;
  let vanished = false;
  if (c.trySp()) {
    c.list(() => {
      const w = c.word('FETCH modifier');
      if (w === 'CHANGEDSINCE') {
        c.sp();
        changedSince = c.number64();
      } else if (w === 'VANISHED') {
        vanished = true;
      } else {
        fail(`Unknown FETCH modifier ${w.slice(0, 40)}`);
      }
    }, false);
  }
  c.end();
  // RFC 7162 3.2.6: VANISHED only with UID FETCH and CHANGEDSINCE.
  if (vanished && (!uid || changedSince === null)) fail('VANISHED requires UID FETCH with CHANGEDSINCE');
  return { tag, name: 'FETCH', uid, set, macro, items, changedSince, vanished };
}
