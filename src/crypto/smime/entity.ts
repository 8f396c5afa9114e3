/**
 * Just enough MIME for S/MIME (RFC 2045/2046/1847): split an entity into its
 * header fields and body, read a Content-Type, canonicalise line ends, and
 * base64 at 76 columns. Header bytes are kept as sent, because a signed
 * entity must be hashed exactly as transmitted. Bounded: the header section
 * is capped and a malformed entity is an EntityError.
 */
export class EntityError extends Error {
  override name = 'EntityError';
}

export interface HeaderField {
  /** As written, e.g. "Content-Type". */
  name: string;
  /** Unfolded value, trimmed. */
  value: string;
  /** The field's bytes including folding and its line end. */
  raw: Uint8Array;
}

export interface Entity {
  fields: HeaderField[];
  /** Bytes after the blank line ending the header section (empty when there is none). */
  body: Uint8Array;
}

const MAX_HEADER_BYTES = 256 * 1024;
const MAX_FIELDS = 2000;

/** Bare LF and bare CR become CRLF (RFC 5751 §3.1.1 canonical form). */
export function canonicalize(bytes: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if ((b === 0x0a && bytes[i - 1] !== 0x0d) || (b === 0x0d && bytes[i + 1] !== 0x0a)) extra++;
  }
  if (extra === 0) return bytes;
  const out = new Uint8Array(bytes.length + extra);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x0a && bytes[i - 1] !== 0x0d) {
      out[o++] = 0x0d;
      out[o++] = 0x0a;
    } else if (b === 0x0d && bytes[i + 1] !== 0x0a) {
      out[o++] = 0x0d;
      out[o++] = 0x0a;
    } else {
      out[o++] = b;
    }
  }
  return out;
}

/** End of the line starting at `i`: index of its first line-end byte, and the index after the line end. */
function lineAt(bytes: Uint8Array, i: number): { end: number; next: number } {
  let j = i;
  while (j < bytes.length && bytes[j] !== 0x0a && bytes[j] !== 0x0d) j++;
  if (j >= bytes.length) return { end: j, next: j };
  if (bytes[j] === 0x0d && bytes[j + 1] === 0x0a) return { end: j, next: j + 2 };
  return { end: j, next: j + 1 };
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

export function splitEntity(bytes: Uint8Array): Entity {
  const fields: HeaderField[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (i > MAX_HEADER_BYTES) throw new EntityError('header section too large');
    const { end, next } = lineAt(bytes, i);
    if (end === i) return { fields, body: bytes.subarray(next) }; // blank line
    const first = latin1(bytes.subarray(i, end));
    const colon = first.indexOf(':');
    if (colon <= 0 || !/^[!-9;-~]+$/.test(first.slice(0, colon).trimEnd())) {
      if (fields.length === 0) return { fields, body: bytes }; // no header section at all
      throw new EntityError(`not a header field: ${JSON.stringify(first.slice(0, 40))}`);
    }
    let stop = next;
    let value = first.slice(colon + 1);
    while (stop < bytes.length && (bytes[stop] === 0x20 || bytes[stop] === 0x09)) {
      const cont = lineAt(bytes, stop);
      value += latin1(bytes.subarray(stop, cont.end));
      stop = cont.next;
      if (stop - i > MAX_HEADER_BYTES) throw new EntityError('header field too large');
    }
    if (fields.length >= MAX_FIELDS) throw new EntityError('too many header fields');
    fields.push({ name: first.slice(0, colon).trimEnd(), value: value.trim(), raw: bytes.subarray(i, stop) });
    i = stop;
  }
  return { fields, body: new Uint8Array(0) };
}

export function field(entity: Entity, name: string): string | undefined {
  const n = name.toLowerCase();
  return entity.fields.find((f) => f.name.toLowerCase() === n)?.value;
}

export interface ContentType {
  /** "type/subtype", lower case. */
  type: string;
  /** Parameter names lower case; values unquoted. */
  params: Record<string, string>;
}

/** RFC 2045 Content-Type; comments are not supported, RFC 2231 continuations are not joined. */
export function parseContentType(value: string | undefined): ContentType {
  if (!value) return { type: 'text/plain', params: { charset: 'us-ascii' } };
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*\/\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/.exec(value);
  if (!m) throw new EntityError(`bad Content-Type: ${JSON.stringify(value.slice(0, 60))}`);
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  let rest = value.slice(m[0].length);
  for (let guard = 0; guard < 100 && rest.length > 0; guard++) {
    const p = /^;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+.^_`|~0-9A-Za-z-]+))\s*/.exec(rest);
    if (!p) {
      const skip = /^;?\s*[^;]*/.exec(rest)![0];
      rest = rest.slice(Math.max(skip.length, 1));
      continue;
    }
    const name = p[1]!.toLowerCase();
    if (!(name in params)) params[name] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
    rest = rest.slice(p[0].length);
  }
  return { type: `${m[1]}/${m[2]}`.toLowerCase(), params };
}

/** Base64 in lines of 76 characters, each ended by CRLF (RFC 2045 §6.8). */
export function base64Lines(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 76) out += `${b64.slice(i, i + 76)}\r\n`;
  return out;
}

/** Decodes a base64 body, ignoring line breaks and white space; other garbage is an error. */
export function decodeBase64(body: Uint8Array): Uint8Array {
  const text = latin1(body).replace(/[\s]+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new EntityError('base64 body has characters outside the alphabet');
  return new Uint8Array(Buffer.from(text, 'base64'));
}
