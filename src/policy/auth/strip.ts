/**
 * Removes Authentication-Results fields that claim to come from us (RFC 8601
 * §5): a sender must not be able to hand our users a "dkim=pass" we never
 * said; likewise the X-Postern-* fields our stages write their verdicts in. ARC-Authentication-Results are left alone: they belong to ARC sets
 * and their removal would break the chain.
 */
import { parseHeaderSection } from '../../codec/mime/header.js';

/** The header section is untrusted input: scan at most this much. */
export const MAX_HEADER_BYTES = 1024 * 1024;
/** An authserv-id is a domain name or a short token; longer is not ours. */
const MAX_AUTHSERV_ID = 255;

export interface StripResult {
  readonly raw: Uint8Array;
  readonly removed: number;
  /** The header was larger than MAX_HEADER_BYTES: fields past the cap were not looked at. */
  readonly truncated: boolean;
}

/**
 * The header fields in which postern's stages state a verdict. One that
 * arrives with the message is a forgery (a sender writing
 * "X-Postern-SMIME: valid" for our users' filters to trust).
 */
export const VERDICT_FIELDS: ReadonlySet<string> = new Set(['x-postern-spoof', 'x-postern-malware', 'x-postern-dlp', 'x-postern-dlp-tls', 'x-postern-smime']);

export function stripForgedAuthResults(raw: Uint8Array, authservId: string): StripResult {
  return stripForged(raw, authservId, new Set());
}

/**
 * Removes Authentication-Results fields with our authserv-id (none when
 * `authservId` is null) and every field named in `verdictFields`
 * (lower-case names).
 */
export function stripForged(raw: Uint8Array, authservId: string | null, verdictFields: ReadonlySet<string>): StripResult {
  // "mx.example." names the same host as "mx.example" to a reader: both are ours.
  const ours = authservId === null ? null : withoutDot(authservId.trim().toLowerCase());
  const header = parseHeaderSection(raw, { maxHeaderBytes: MAX_HEADER_BYTES, maxHeaderFields: 20000 });
  const drop: [number, number][] = [];
  for (const f of header.fields) {
    const name = f.name.toLowerCase();
    if (verdictFields.has(name)) {
      drop.push([f.start, f.end]);
      continue;
    }
    if (ours === null || name !== 'authentication-results') continue;
    const id = authservIdOf(f.value);
    if (id !== null && withoutDot(id.toLowerCase()) === ours) drop.push([f.start, f.end]);
  }
  if (drop.length === 0) return { raw, removed: 0, truncated: header.truncated };
  const parts: Uint8Array[] = [];
  let pos = 0;
  for (const [start, end] of drop) {
    parts.push(raw.subarray(pos, start));
    pos = end;
  }
  parts.push(raw.subarray(pos));
  const out = new Uint8Array(raw.length - drop.reduce((n, [s, e]) => n + (e - s), 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { raw: out, removed: drop.length, truncated: header.truncated };
}

function withoutDot(s: string): string {
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

/**
 * The authserv-id of an A-R value: a token or quoted-string after optional
 * comments and white space (RFC 8601 §2.2). Linear scan, no regex; null when
 * there is none.
 */
export function authservIdOf(value: string): string | null {
  let i = skipCfws(value, 0);
  if (i >= value.length) return null;
  let id = '';
  if (value[i] === '"') {
    i += 1;
    while (i < value.length && value[i] !== '"') {
      if (value[i] === '\\') i += 1;
      if (i < value.length) id += value[i];
      i += 1;
      if (id.length > MAX_AUTHSERV_ID) return null;
    }
    if (i >= value.length) return null;
  } else {
    while (i < value.length && !isDelimiter(value.charCodeAt(i))) {
      id += value[i];
      i += 1;
      if (id.length > MAX_AUTHSERV_ID) return null;
    }
  }
  return id.length > 0 ? id : null;
}

/** Token ends at white space, control characters, or the specials that can follow an authserv-id. */
function isDelimiter(c: number): boolean {
  return c <= 0x20 || c === 0x7f || c === 0x3b /* ; */ || c === 0x28 /* ( */ || c === 0x22 /* " */;
}

/** Skips white space and (nested) comments; comments deeper than 16 levels end the scan. */
function skipCfws(s: string, from: number): number {
  let i = from;
  let depth = 0;
  while (i < s.length) {
    const c = s[i];
    if (depth === 0 && c !== ' ' && c !== '\t' && c !== '\r' && c !== '\n' && c !== '(') return i;
    if (c === '\\' && depth > 0) i += 1;
    else if (c === '(') {
      depth += 1;
      if (depth > 16) return s.length;
    } else if (c === ')' && depth > 0) depth -= 1;
    i += 1;
  }
  return i;
}
