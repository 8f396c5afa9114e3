/**
 * A visible warning at the top of a message body. text/plain parts get a
 * plain block first, text/html parts a <div> right after <body>; both parts
 * of a multipart/alternative are changed. The banner is ASCII, so a body in
 * any ASCII-compatible charset keeps its charset; base64 and quoted-printable
 * parts are decoded, changed and encoded again. Signed or encrypted messages
 * are never touched (null), nor is anything too deep, too large or unclear.
 */
import { decodePartBody, paramValue, parseMessage } from '../../codec/mime/index.js';
import type { MimeMessage, MimePart } from '../../codec/mime/index.js';
import { sanitizeAscii } from './sanitize.js';
import { encodeBase64Lines, encodeQuotedPrintable } from './transfer-encode.js';

export interface BannerLimits {
  /** Largest message changed (default 32 MiB). */
  readonly maxBytes?: number;
  /** Deepest multipart nesting followed to find the body (default 8). */
  readonly maxDepth?: number;
  /** Largest decoded text part re-encoded (default 8 MiB). */
  readonly maxPartBytes?: number;
}

const DEFAULTS: Required<BannerLimits> = { maxBytes: 32 * 1024 * 1024, maxDepth: 8, maxPartBytes: 8 * 1024 * 1024 };
const MAX_BANNER_CHARS = 1000;
const WRAP = 76;
/** Bytes of HTML searched for the <body> tag. */
const BODY_TAG_SEARCH = 64 * 1024;

class Refuse extends Error {}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly bytes: Buffer;
}

function isProtected(p: MimePart): boolean {
  const { type, subtype } = p.contentType;
  if (type === 'multipart' && (subtype === 'signed' || subtype === 'encrypted')) return true;
  if (type === 'application' && /^(x-)?pkcs7-(mime|signature)$|^pgp-(encrypted|signature)$/.test(subtype)) return true;
  return false;
}

/** Any signed or encrypted part outside enclosed messages makes the whole message untouchable. */
function hasProtected(root: MimePart): boolean {
  const todo: MimePart[] = [root];
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (isProtected(p)) return true;
    todo.push(...p.children);
  }
  return false;
}

function isText(p: MimePart, subtype: 'plain' | 'html'): boolean {
  return p.contentType.type === 'text' && p.contentType.subtype === subtype && p.disposition?.type !== 'attachment';
}

/** The parts a reader sees first. */
function targets(p: MimePart, depth: number, maxDepth: number): MimePart[] {
  if (depth > maxDepth) throw new Refuse('too deep');
  if (isText(p, 'plain') || isText(p, 'html')) return [p];
  if (!p.multipart) return [];
  if (p.contentType.subtype === 'alternative') {
    return p.children.flatMap((c) => (isText(c, 'plain') || isText(c, 'html') || c.multipart ? targets(c, depth + 1, maxDepth) : []));
  }
  const first = p.children[0];
  return first && first.disposition?.type !== 'attachment' ? targets(first, depth + 1, maxDepth) : [];
}

function wrap(line: string): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > WRAP) {
    const cut = rest.lastIndexOf(' ', WRAP);
    const at = cut > 0 ? cut : WRAP;
    out.push(rest.slice(0, at));
    rest = rest.slice(at).trimStart();
  }
  out.push(rest);
  return out;
}

function bannerLines(text: string): string[] {
  return text
    .slice(0, MAX_BANNER_CHARS)
    .split(/\r?\n/)
    .map((l) => sanitizeAscii(l, 400))
    .filter((l) => l !== '')
    .flatMap(wrap);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function plainBlock(lines: readonly string[], eol: string): Buffer {
  return Buffer.from(lines.join(eol) + eol + eol, 'latin1');
}

function htmlBlock(lines: readonly string[], eol: string): Buffer {
  const inner = lines.map(escapeHtml).join('<br>');
  return Buffer.from(`${eol}<div style="border:2px solid #c00;background:#fee;color:#000;padding:6px;margin:0 0 8px 0;font-family:sans-serif">${inner}</div>${eol}`, 'latin1');
}

/** Where to insert in HTML: just after the <body ...> tag, else after <html ...>, else at the start. */
function htmlInsertAt(body: Buffer): number {
  const head = body.subarray(0, BODY_TAG_SEARCH).toString('latin1').toLowerCase();
  for (const tag of ['<body', '<html']) {
    const at = head.indexOf(tag);
    if (at < 0) continue;
    const next = head[at + tag.length];
    if (next !== '>' && next !== ' ' && next !== '\t' && next !== '\r' && next !== '\n' && next !== '/') continue;
    const close = head.indexOf('>', at);
    if (close >= 0) return close + 1;
  }
  return 0;
}

const ASCII_INCOMPATIBLE = /^(utf-?16|utf-?32|ucs-?2|ucs-?4|utf-?7)/i;

function insertInto(body: Buffer, part: MimePart, lines: readonly string[], eol: string): Buffer {
  if (part.contentType.subtype === 'html') {
    const at = htmlInsertAt(body);
    return Buffer.concat([body.subarray(0, at), htmlBlock(lines, eol), body.subarray(at)]);
  }
  return Buffer.concat([plainBlock(lines, eol), body]);
}

function editFor(msg: MimeMessage, part: MimePart, lines: readonly string[], eol: string, maxPartBytes: number): Edit {
  const charset = paramValue(part.contentType.params, 'charset') ?? 'us-ascii';
  if (ASCII_INCOMPATIBLE.test(charset.trim())) throw new Refuse('charset');
  const raw = msg.buf.subarray(part.bodyStart, part.bodyEnd);
  const cte = part.transferEncoding;
  if (cte === '7bit' || cte === '8bit' || cte === 'binary' || cte === '') {
    return { start: part.bodyStart, end: part.bodyEnd, bytes: insertInto(raw, part, lines, eol) };
  }
  if (cte !== 'base64' && cte !== 'quoted-printable') throw new Refuse('transfer encoding');
  if (raw.length > maxPartBytes * 2) throw new Refuse('part too large');
  const decoded = Buffer.from(decodePartBody(msg, part, maxPartBytes + 1));
  if (decoded.length > maxPartBytes) throw new Refuse('part too large');
  const changed = insertInto(decoded, part, lines, eol);
  const endsWithBreak = raw.length > 0 && raw[raw.length - 1] === 0x0a;
  let text = cte === 'base64' ? encodeBase64Lines(changed, eol) : encodeQuotedPrintable(changed, eol);
  if (cte === 'base64' && !endsWithBreak && text.endsWith(eol)) text = text.slice(0, -eol.length);
  if (cte === 'quoted-printable' && endsWithBreak && !text.endsWith(eol)) text += eol;
  return { start: part.bodyStart, end: part.bodyEnd, bytes: Buffer.from(text, 'latin1') };
}

function lineEnding(buf: Buffer): string {
  const lf = buf.indexOf(0x0a);
  return lf > 0 && buf[lf - 1] === 0x0d ? '\r\n' : '\n';
}

/** The message with `text` shown at the top of its body, or null when that cannot be done safely. */
export function addBanner(raw: Uint8Array, text: string, limits: BannerLimits = {}): Uint8Array | null {
  const lim = { ...DEFAULTS, ...limits };
  try {
    if (raw.length > lim.maxBytes) return null;
    const lines = bannerLines(text);
    if (lines.length === 0) return null;
    const msg = parseMessage(raw, { maxDepth: lim.maxDepth + 2 });
    const root = msg.root;
    if (root.header.truncated || !root.header.hasSeparator || hasProtected(root)) return null;
    const parts = targets(root, 0, lim.maxDepth);
    if (parts.length === 0) return null;
    const eol = lineEnding(msg.buf);
    const edits = parts.map((p) => editFor(msg, p, lines, eol, lim.maxPartBytes)).sort((a, b) => a.start - b.start);
    const pieces: Buffer[] = [];
    let pos = 0;
    for (const e of edits) {
      if (e.start < pos) return null;
      pieces.push(msg.buf.subarray(pos, e.start), e.bytes);
      pos = e.end;
    }
    pieces.push(msg.buf.subarray(pos));
    const out = Buffer.concat(pieces);
    // The change must keep the structure: same part count, same types.
    const again = parseMessage(out, { maxDepth: lim.maxDepth + 2 });
    if (again.partCount !== msg.partCount || again.root.contentType.type !== root.contentType.type) return null;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    if (err instanceof Refuse) return null;
    return null;
  }
}
