/** BODY and BODYSTRUCTURE (RFC 9051 section 7.5.2 / RFC 3501 section 7.4.2). */
import type { BodyStructureData, DispositionData, ParamList, PartExtension } from '../structure.js';
import { encodeEnvelope } from './envelope.js';
import { adjacent, type ImapValue } from './value.js';

/** Deeper structures are cut short: nesting is attacker-controlled and responses must stay bounded. */
export const MAX_BODY_DEPTH = 32;

// Stands in for parts past MAX_BODY_DEPTH and for a multipart without parts (the grammar needs one).
const PLACEHOLDER: BodyStructureData = {
  kind: 'text', subtype: 'PLAIN', params: [['CHARSET', 'US-ASCII']], id: null, description: null, encoding: '7BIT', size: 0, lines: 0,
};

function params(p: ParamList): ImapValue {
  return p.length === 0 ? null : p.flatMap(([k, v]) => [k, v]);
}

function disposition(d: DispositionData | null | undefined): ImapValue {
  return d ? [d.type, params(d.params)] : null;
}

function language(l: readonly string[] | null | undefined): ImapValue {
  if (!l || l.length === 0) return null;
  return l.length === 1 ? l[0]! : [...l];
}

/** body-ext-1part: md5 dsp lang loc. */
function singleExtension(e: PartExtension): ImapValue[] {
  return [e.md5 ?? null, disposition(e.disposition), language(e.language), e.location ?? null];
}

function body(data: BodyStructureData, extensible: boolean, depth: number): ImapValue {
  if (depth >= MAX_BODY_DEPTH) data = PLACEHOLDER;
  if (data.kind === 'multipart') {
    const parts = data.parts.length > 0 ? data.parts : [PLACEHOLDER];
    // "(" 1*body SP media-subtype ...: the parts follow each other without spaces.
    const out: ImapValue[] = [adjacent(parts.map((p) => body(p, extensible, depth + 1))), data.subtype.toUpperCase()];
    if (extensible) out.push(params(data.params), disposition(data.disposition), language(data.language), data.location ?? null);
    return out;
  }
  const type = data.kind === 'text' ? 'TEXT' : data.kind === 'message' ? 'MESSAGE' : data.type.toUpperCase();
  const out: ImapValue[] = [
    type,
    data.subtype.toUpperCase(),
    params(data.params),
    data.id,
    data.description,
    data.encoding || '7BIT',
    data.size,
  ];
  if (data.kind === 'message') out.push(encodeEnvelope(data.envelope), body(data.body, extensible, depth + 1), data.lines);
  else if (data.kind === 'text') out.push(data.lines);
  if (extensible) out.push(...singleExtension(data));
  return out;
}

/**
 * The BODYSTRUCTURE value (extensible: with extension data) or the BODY value
 * (without). Type and subtype are written upper-case.
 */
export function encodeBodyStructure(data: BodyStructureData, extensible: boolean): ImapValue {
  return body(data, extensible, 0);
}
