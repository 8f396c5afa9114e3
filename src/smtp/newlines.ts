/**
 * Line-ending checks for message data. SMTP ends every line with CRLF; a bare
 * CR or a bare LF is where different servers disagree on where a line, and so
 * the message, ends (SMTP smuggling, 2023). Pure functions over bytes.
 */
const CR = 0x0d;
const LF = 0x0a;

/** Index of the first CR not followed by LF, or -1. */
export function firstBareCr(buf: Uint8Array): number {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = b.indexOf(CR); i >= 0; i = b.indexOf(CR, i + 1)) {
    if (b[i + 1] !== LF) return i;
  }
  return -1;
}

/** Index of the first LF not preceded by CR, or -1. */
export function firstBareLf(buf: Uint8Array): number {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = b.indexOf(LF); i >= 0; i = b.indexOf(LF, i + 1)) {
    if (i === 0 || b[i - 1] !== CR) return i;
  }
  return -1;
}

// The NUL rule is postern's one storage rule, shared with IMAP APPEND.
export { firstNul } from '../codec/mime/index.js';

/** Rewrites every bare LF as CRLF; bare CRs are left alone (callers refuse them). */
export function normalizeBareLf(buf: Uint8Array): Buffer {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let bare = 0;
  for (let i = b.indexOf(LF); i >= 0; i = b.indexOf(LF, i + 1)) if (i === 0 || b[i - 1] !== CR) bare++;
  if (bare === 0) return b;
  const out = Buffer.allocUnsafe(b.length + bare);
  let from = 0;
  let to = 0;
  for (let i = b.indexOf(LF); i >= 0; i = b.indexOf(LF, i + 1)) {
    if (i > 0 && b[i - 1] === CR) continue;
    to += b.copy(out, to, from, i);
    out[to++] = CR;
    from = i; // the LF itself is copied with the next run
  }
  b.copy(out, to, from);
  return out;
}

export type NewlineVerdict = { ok: true; data: Buffer } | { ok: false; reason: 'bare-cr' | 'bare-lf'; offset: number };

/**
 * Applies the bare-newline policy: 'reject' refuses any bare CR or LF (as
 * Postfix's smtpd_forbid_bare_newline = reject); 'normalize' turns bare LF into
 * CRLF and still refuses a bare CR, which no mail client legitimately sends.
 */
export function applyNewlinePolicy(buf: Uint8Array, policy: 'reject' | 'normalize'): NewlineVerdict {
  const cr = firstBareCr(buf);
  if (cr >= 0) return { ok: false, reason: 'bare-cr', offset: cr };
  if (policy === 'reject') {
    const lf = firstBareLf(buf);
    if (lf >= 0) return { ok: false, reason: 'bare-lf', offset: lf };
    return { ok: true, data: Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength) };
  }
  return { ok: true, data: normalizeBareLf(buf) };
}
