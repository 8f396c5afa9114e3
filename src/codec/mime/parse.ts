/**
 * MIME structure parser (RFC 2045/2046). One pass over the bytes with an explicit
 * stack of open parts, so hostile nesting cannot overflow the call stack. At each
 * line that starts with "--" the open boundaries are tried innermost first; a line
 * that matches an outer boundary ends every part inside it. Limits turn the rest
 * of a part into opaque body and leave a defect; nothing here throws.
 */
import { asBuffer, breakBefore, countLf, CR, HT, LF, SP } from './bytes.js';
import { DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADER_FIELDS, scanHeader } from './header.js';
import { paramValue } from './params.js';
import { describePart } from './part-info.js';
import type { ByteRange, HeaderLimits, MimeDefect, MimeLimits, MimeMessage, MimePart, MultipartInfo } from './types.js';

export const DEFAULT_MAX_DEPTH = 32;
export const DEFAULT_MAX_PARTS = 1000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Building = Mutable<MimePart> & { children: Building[]; message: Building | null };

interface Frame {
  part: Building;
  /** "--" + boundary while the multipart takes delimiters; null otherwise. */
  delimiter: Buffer | null;
  state: 'leaf' | 'message' | 'preamble' | 'children' | 'epilogue';
  epilogueStart: number;
  closed: boolean;
  digest: boolean;
}

interface Ctx {
  buf: Buffer;
  stack: Frame[];
  /** Open delimiters by byte length → stack indices, innermost first; null when stale. */
  byLength: Map<number, number[]> | null;
  /** Length of the longest open delimiter (valid with byLength). */
  maxDelimiter: number;
  parts: number;
  maxDepth: number;
  maxParts: number;
  header: HeaderLimits;
}

interface BoundaryHit {
  frame: number;
  lineStart: number;
  lineEnd: number;
  close: boolean;
}

const DASH = 0x2d;

/** Parses a whole message into a part tree. Never throws on any input. */
export function parseMessage(input: Uint8Array, limits: MimeLimits = {}): MimeMessage {
  const buf = asBuffer(input);
  const ctx: Ctx = {
    buf,
    stack: [],
    byLength: null,
    maxDelimiter: 0,
    parts: 0,
    maxDepth: Math.max(0, limits.maxDepth ?? DEFAULT_MAX_DEPTH),
    maxParts: Math.max(1, limits.maxParts ?? DEFAULT_MAX_PARTS),
    header: {
      maxHeaderBytes: limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
      maxHeaderFields: limits.maxHeaderFields ?? DEFAULT_MAX_HEADER_FIELDS,
    },
  };
  let pos = openPart(ctx, 0, 0, false);
  const root = ctx.stack[0]!.part;
  for (;;) {
    const hit = nextBoundary(ctx, pos);
    if (!hit) break;
    // The line break before a delimiter belongs to it, unless the innermost open
    // part's header already took it (a header that ends right at the delimiter):
    // no part may end before its body starts, or it would stick out of its parent.
    const end = Math.max(breakBefore(buf, hit.lineStart), ctx.stack[ctx.stack.length - 1]!.part.bodyStart);
    closeAbove(ctx, hit.frame, end);
    const f = ctx.stack[hit.frame]!;
    ctx.byLength = null;
    if (f.state === 'preamble') f.part.multipart = { ...f.part.multipart!, preamble: range(f.part.bodyStart, end) };
    if (hit.close) {
      f.state = 'epilogue';
      f.closed = true;
      f.epilogueStart = hit.lineEnd;
      pos = hit.lineEnd;
    } else if (ctx.parts >= ctx.maxParts) {
      // Out of parts: this delimiter and all after it stay opaque epilogue bytes.
      f.part.defects.push({ code: 'part-limit', offset: hit.lineStart, detail: `over ${ctx.maxParts} parts` });
      f.state = 'epilogue';
      f.epilogueStart = hit.lineStart;
      pos = hit.lineEnd;
    } else {
      f.state = 'children';
      pos = openPart(ctx, hit.lineEnd, f.part.depth + 1, f.digest);
    }
  }
  closeAbove(ctx, -1, buf.length);
  return { buf, root, partCount: ctx.parts };
}

function range(start: number, end: number): ByteRange | null {
  return end > start ? { start, end } : null;
}

/**
 * Opens the part whose header starts at `start` and, for message/rfc822, the
 * encapsulated message inside it (a loop, not recursion). Returns where body
 * scanning resumes.
 */
function openPart(ctx: Ctx, start: number, depth: number, digest: boolean): number {
  let s = start;
  let d = depth;
  let inDigest = digest;
  for (;;) {
    ctx.parts++;
    const header = scanHeader(ctx.buf, s, ctx.buf.length, ctx.header, (ls) => matchOpen(ctx, ls) !== null);
    const info = describePart(header, inDigest);
    const part: Building = {
      depth: d,
      headerStart: s,
      bodyStart: header.bodyStart,
      bodyEnd: header.bodyStart,
      header,
      ...info,
      lines: 0,
      multipart: null,
      children: [],
      message: null,
      defects: [...header.defects, ...info.defects],
    };
    const parent = ctx.stack[ctx.stack.length - 1];
    if (parent?.state === 'message') parent.part.message = part;
    else if (parent) parent.part.children.push(part);
    const frame: Frame = { part, delimiter: null, state: 'leaf', epilogueStart: 0, closed: false, digest: false };
    ctx.stack.push(frame);
    ctx.byLength = null;
    const { type, subtype } = part.contentType;
    const isMessage = type === 'message' && (subtype === 'rfc822' || subtype === 'global');
    if (header.truncated || (type !== 'multipart' && !isMessage)) return header.bodyStart;
    if (d >= ctx.maxDepth) {
      part.defects.push({ code: 'depth-limit', offset: s, detail: `deeper than ${ctx.maxDepth}` });
      return header.bodyStart;
    }
    if (type === 'multipart') {
      const boundary = paramValue(part.contentType.params, 'boundary') ?? '';
      if (boundary.trim() === '') {
        part.defects.push({ code: 'multipart-no-boundary', offset: s });
        return header.bodyStart;
      }
      // Blanks ending a boundary cannot be told from transport padding (RFC 2046 forbids them).
      frame.delimiter = Buffer.from('--' + boundary.trimEnd(), 'utf8');
      frame.state = 'preamble';
      ctx.byLength = null;
      frame.digest = subtype === 'digest';
      part.multipart = { boundary, preamble: null, epilogue: null, closed: false };
      return header.bodyStart;
    }
    if (ctx.parts >= ctx.maxParts) {
      part.defects.push({ code: 'part-limit', offset: s, detail: `over ${ctx.maxParts} parts` });
      return header.bodyStart;
    }
    if (!['7bit', '8bit', 'binary'].includes(part.transferEncoding)) {
      // RFC 2046 section 5.2.1 forbids this; the body is still read as a message.
      part.defects.push({ code: 'message-encoded', offset: s, detail: part.transferEncoding });
    }
    frame.state = 'message';
    s = header.bodyStart;
    d++;
    inDigest = false;
  }
}

/**
 * Does the line at `ls` delimit an open multipart? Innermost first. A delimiter is
 * `--boundary`, optionally `--`, then only blanks up to the line break (RFC 2046
 * section 5.1.1), so the line's trimmed length rules out most boundaries before
 * any byte is compared: hostile input full of "--" lines stays linear.
 */
function matchOpen(ctx: Ctx, ls: number): BoundaryHit | null {
  const buf = ctx.buf;
  if (buf[ls] !== DASH || buf[ls + 1] !== DASH) return null;
  const byLength = openDelimiters(ctx);
  if (byLength.size === 0) return null;
  // Find the line's content end, giving up as soon as it is too long to match.
  const n = buf.length;
  const limit = ls + ctx.maxDelimiter + 2;
  let p = ls + 2;
  let te = p;
  let c = 0;
  for (; p < n; p++) {
    c = buf[p]!;
    if (c === LF || c === CR) break;
    if (c !== SP && c !== HT) {
      if (p >= limit) return null;
      te = p + 1;
    }
  }
  if (c === CR && p + 1 < n && buf[p + 1] !== LF) return null;
  const lineEnd = p >= n ? n : c === CR ? Math.min(p + 2, n) : p + 1;
  const len = te - ls;
  const plain = byLength.get(len) ?? NONE;
  const closing = buf[te - 1] === DASH && buf[te - 2] === DASH ? (byLength.get(len - 2) ?? NONE) : NONE;
  // Merge both candidate lists, innermost (highest stack index) first.
  let a = 0;
  let b = 0;
  while (a < plain.length || b < closing.length) {
    const close = b < closing.length && (a >= plain.length || closing[b]! > plain[a]!);
    const i = close ? closing[b++]! : plain[a++]!;
    if (startsWith(buf, ls, ctx.stack[i]!.delimiter!)) return { frame: i, lineStart: ls, lineEnd, close };
  }
  return null;
}

const NONE: number[] = [];

function openDelimiters(ctx: Ctx): Map<number, number[]> {
  if (ctx.byLength) return ctx.byLength;
  const map = new Map<number, number[]>();
  ctx.maxDelimiter = 0;
  for (let i = ctx.stack.length - 1; i >= 0; i--) {
    const f = ctx.stack[i]!;
    if (!f.delimiter || (f.state !== 'preamble' && f.state !== 'children')) continue;
    ctx.maxDelimiter = Math.max(ctx.maxDelimiter, f.delimiter.length);
    const list = map.get(f.delimiter.length);
    if (list) list.push(i);
    else map.set(f.delimiter.length, [i]);
  }
  ctx.byLength = map;
  return map;
}

function startsWith(buf: Buffer, at: number, d: Buffer): boolean {
  for (let k = d.length - 1; k >= 2; k--) if (buf[at + k] !== d[k]) return false;
  return true;
}

/** The next line at or after `pos` (a line start) that delimits an open multipart. */
function nextBoundary(ctx: Ctx, pos: number): BoundaryHit | null {
  if (openDelimiters(ctx).size === 0) return null;
  const buf = ctx.buf;
  let ls = pos;
  while (ls < buf.length) {
    if (buf[ls] === DASH && buf[ls + 1] === DASH) {
      const hit = matchOpen(ctx, ls);
      if (hit) return hit;
    }
    // A one-byte needle: Buffer.indexOf with a longer needle costs far more per call.
    const j = buf.indexOf(LF, ls);
    if (j < 0) return null;
    ls = j + 1;
  }
  return null;
}

/** Ends every part above stack index `keep` at byte `end`. */
function closeAbove(ctx: Ctx, keep: number, end: number): void {
  while (ctx.stack.length - 1 > keep) {
    const f = ctx.stack.pop()!;
    ctx.byLength = null;
    const p = f.part;
    p.bodyEnd = Math.max(end, p.bodyStart);
    if (p.multipart) p.multipart = finishMultipart(f, p.multipart, p.defects);
    else if (p.contentType.type !== 'multipart') p.lines = countLf(ctx.buf, p.bodyStart, p.bodyEnd);
  }
}

function finishMultipart(f: Frame, info: MultipartInfo, defects: MimeDefect[]): MultipartInfo {
  const p = f.part;
  let out = info;
  if (f.state === 'preamble') out = { ...out, preamble: range(p.bodyStart, p.bodyEnd) };
  if (p.children.length === 0) defects.push({ code: 'multipart-no-parts', offset: p.bodyStart });
  if (f.state === 'epilogue') return { ...out, closed: f.closed, epilogue: range(f.epilogueStart, p.bodyEnd) };
  defects.push({ code: 'multipart-no-close', offset: p.bodyEnd });
  return out;
}

/** Every defect in the tree, depth first. */
export function collectDefects(root: MimePart): MimeDefect[] {
  const out: MimeDefect[] = [];
  const todo: MimePart[] = [root];
  while (todo.length > 0) {
    const p = todo.pop()!;
    for (const d of p.defects) out.push(d);
    if (p.message) todo.push(p.message);
    for (let i = p.children.length - 1; i >= 0; i--) todo.push(p.children[i]!);
  }
  return out;
}
