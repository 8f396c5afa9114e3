/**
 * Bounded gzip and zip readers for report attachments. Inflation is fed
 * 1 KiB of compressed input at a time and stops as soon as the output passes
 * the limit: deflate expands at most ~1032:1, so a bomb costs at most the
 * limit plus about 1 MiB, never its full size.
 */
import { Inflate } from 'fflate';

/** Compressed bytes pushed per step; bounds the output of one step to ~1 MiB. */
const STEP = 1024;

export type Unpacked = { ok: true; data: Uint8Array } | { ok: false; error: string };

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Bytes inflated so far, for callers (and tests) that check how far a refused input got. */
export interface InflateStats {
  produced: number;
}

/** Inflates raw deflate data (RFC 1951) to at most maxOut bytes; bytes after the final block are ignored. */
export function inflateBounded(data: Uint8Array, maxOut: number, stats?: InflateStats): Unpacked {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let over = false;
  let done = false;
  const inf = new Inflate((chunk, final) => {
    total += chunk.length;
    if (stats) stats.produced = total;
    if (total > maxOut) over = true;
    else if (chunk.length > 0) chunks.push(chunk);
    if (final) done = true;
  });
  try {
    for (let i = 0; i < data.length && !over && !done; i += STEP) {
      const end = Math.min(i + STEP, data.length);
      inf.push(data.subarray(i, end), end === data.length);
    }
    if (data.length === 0) return { ok: false, error: 'empty compressed data' };
  } catch (e) {
    return { ok: false, error: `corrupt deflate data (${(e as Error).message})` };
  }
  if (over) return { ok: false, error: `decompresses to more than ${maxOut} bytes` };
  return { ok: true, data: concat(chunks, total) };
}

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/**
 * Gunzips the first member of a gzip file (RFC 1952). Trailing bytes (some
 * reporters' attachments end in a stray CRLF) are ignored. The trailer's
 * ISIZE is size mod 2^32 and cannot be trusted, so only the streaming limit
 * guards the output.
 */
export function gunzipBounded(data: Uint8Array, maxOut: number, stats?: InflateStats): Unpacked {
  if (data.length < 18 || data[0] !== 0x1f || data[1] !== 0x8b) return { ok: false, error: 'not gzip data' };
  if (data[2] !== 8) return { ok: false, error: 'gzip: unknown compression method' };
  const flags = data[3]!;
  let at = 10;
  if (flags & FEXTRA) at += 2 + (data[at]! | (data[at + 1]! << 8));
  const skipZ = () => {
    while (at < data.length && data[at] !== 0) at++;
    at++;
  };
  if (flags & FNAME) skipZ();
  if (flags & FCOMMENT) skipZ();
  if (flags & FHCRC) at += 2;
  if (at >= data.length) return { ok: false, error: 'gzip: truncated header' };
  const r = inflateBounded(data.subarray(at), maxOut, stats);
  return r.ok ? r : { ok: false, error: `gzip: ${r.error}` };
}

export interface ZipEntry {
  readonly name: string;
  readonly data: Uint8Array;
}

export type ZipResult = { ok: true; entries: ZipEntry[]; skipped: string[] } | { ok: false; error: string };

export interface ZipLimits {
  readonly maxEntries: number;
  readonly maxEntryBytes: number;
  /** Which entry names to read; others are listed as skipped. */
  readonly accept: (name: string) => boolean;
  readonly stats?: InflateStats;
}

const u16 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

const EOCD = 0x06054b50;
const CEN = 0x02014b50;
const LOC = 0x04034b50;

/**
 * Reads a zip archive through its central directory: declared sizes are
 * checked before anything is inflated, and inflation stops at the limit even
 * when the declaration lied. No zip64, no encryption (reports never use them).
 */
export function unzipBounded(data: Uint8Array, lim: ZipLimits): ZipResult {
  // The end-of-central-directory record sits in the last 22 + 65535 bytes.
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (u32(data, i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return { ok: false, error: 'zip: no end of central directory' };
  const count = u16(data, eocd + 10);
  let at = u32(data, eocd + 16);
  if (count === 0) return { ok: false, error: 'zip: empty archive' };
  const entries: ZipEntry[] = [];
  const skipped: string[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > data.length || u32(data, at) !== CEN) return { ok: false, error: 'zip: corrupt central directory' };
    const flags = u16(data, at + 8);
    const method = u16(data, at + 10);
    const csize = u32(data, at + 20);
    const usize = u32(data, at + 24);
    const nameLen = u16(data, at + 28);
    const extraLen = u16(data, at + 30);
    const commentLen = u16(data, at + 32);
    const local = u32(data, at + 42);
    if (at + 46 + nameLen > data.length) return { ok: false, error: 'zip: corrupt central directory' };
    const name = new TextDecoder('utf-8').decode(data.subarray(at + 46, at + 46 + nameLen));
    at += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue; // a folder
    if (!lim.accept(name)) {
      skipped.push(name);
      continue;
    }
    if (entries.length >= lim.maxEntries) return { ok: false, error: `zip: more than ${lim.maxEntries} report entries` };
    if (flags & 1) return { ok: false, error: `zip: ${name} is encrypted` };
    if (usize > lim.maxEntryBytes || csize === 0xffffffff) return { ok: false, error: `zip: ${name} declares ${usize} bytes, more than ${lim.maxEntryBytes}` };
    if (local + 30 > data.length || u32(data, local) !== LOC) return { ok: false, error: `zip: ${name}: corrupt local header` };
    const start = local + 30 + u16(data, local + 26) + u16(data, local + 28);
    if (start + csize > data.length) return { ok: false, error: `zip: ${name} is truncated` };
    const raw = data.subarray(start, start + csize);
    if (method === 0) {
      if (csize > lim.maxEntryBytes) return { ok: false, error: `zip: ${name} is larger than ${lim.maxEntryBytes} bytes` };
      entries.push({ name, data: raw });
    } else if (method === 8) {
      const r = inflateBounded(raw, lim.maxEntryBytes, lim.stats);
      if (!r.ok) return { ok: false, error: `zip: ${name}: ${r.error}` };
      entries.push({ name, data: r.data });
    } else return { ok: false, error: `zip: ${name}: unsupported compression method ${method}` };
  }
  return { ok: true, entries, skipped };
}
