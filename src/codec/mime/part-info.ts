/** Reads a part's MIME fields (RFC 2045, 2183, 3282, 2557, 1864) from its header. */
import { parseStructuredValue, stripComments } from './params.js';
import type { ContentDisposition, ContentType, HeaderField, HeaderSection, MimeDefect } from './types.js';

export interface PartInfo {
  readonly contentType: ContentType;
  readonly transferEncoding: string;
  readonly disposition: ContentDisposition | null;
  readonly contentId: string | null;
  readonly description: string | null;
  readonly language: string[] | null;
  readonly location: string | null;
  readonly md5: string | null;
  readonly defects: MimeDefect[];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Fields whose repetition makes the part ambiguous to readers.
const SINGLE = new Set(['content-type', 'content-transfer-encoding', 'content-disposition']);

/**
 * `inDigest`: the part is a child of multipart/digest, whose default type is
 * message/rfc822 (RFC 2046 section 5.1.5).
 */
export function describePart(header: HeaderSection, inDigest: boolean): PartInfo {
  const defects: MimeDefect[] = [];
  // One pass: a part may carry thousands of fields, and only Content-* ones matter here.
  const first = new Map<string, HeaderField>();
  for (const f of header.fields) {
    if (f.name.length < 8 || (f.name.charCodeAt(0) | 0x20) !== 0x63) continue; // 'c'
    const lname = f.name.toLowerCase();
    if (!first.has(lname)) first.set(lname, f);
    else if (SINGLE.has(lname)) defects.push({ code: 'header-duplicate', offset: f.start, detail: f.name });
  }
  const value = (name: string): string | null => first.get(name)?.value ?? null;
  return {
    contentType: contentType(first.get('content-type') ?? null, inDigest, defects),
    transferEncoding: stripComments(value('content-transfer-encoding') ?? '').toLowerCase() || '7bit',
    disposition: disposition(value('content-disposition')),
    contentId: value('content-id'),
    description: value('content-description'),
    language: language(value('content-language')),
    location: value('content-location'),
    md5: value('content-md5'),
    defects,
  };
}

function contentType(field: HeaderField | null, inDigest: boolean, defects: MimeDefect[]): ContentType {
  const fallback = inDigest ? ['message', 'rfc822'] : ['text', 'plain'];
  if (!field) return { type: fallback[0]!, subtype: fallback[1]!, params: [], defaulted: true };
  const parsed = parseStructuredValue(field.value);
  for (const code of parsed.defects) defects.push({ code, offset: field.start });
  const slash = parsed.value.indexOf('/');
  const type = parsed.value.slice(0, slash).toLowerCase();
  const subtype = parsed.value.slice(slash + 1).toLowerCase();
  if (slash < 0 || !TOKEN.test(type) || !TOKEN.test(subtype)) {
    // RFC 2045 section 5.2: an unusable Content-Type means the default; parameters are kept.
    defects.push({ code: 'content-type-invalid', offset: field.start, detail: parsed.value.slice(0, 100) });
    return { type: fallback[0]!, subtype: fallback[1]!, params: parsed.params, defaulted: true };
  }
  return { type, subtype, params: parsed.params, defaulted: false };
}

function disposition(value: string | null): ContentDisposition | null {
  if (value === null) return null;
  const parsed = parseStructuredValue(value);
  const type = parsed.value.toLowerCase();
  return type ? { type, params: parsed.params } : null;
}

function language(value: string | null): string[] | null {
  if (value === null) return null;
  const tags = stripComments(value)
    .split(/[,\s]+/)
    .filter((t) => t.length > 0);
  return tags.length > 0 ? tags : null;
}
