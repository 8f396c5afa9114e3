/**
 * A bounded reader of ZIP archives for scanning: entries come from the
 * central directory (names, sizes, flags) and are inflated one at a time
 * under three limits — the bytes left in the message's budget, a ratio of
 * uncompressed to compressed size, and the declared size (a declaration that
 * lies is caught while inflating, which stops at the limit: deflate expands
 * at most ~1032:1 per KiB fed, so a refused bomb costs about 1 MiB).
 * Encrypted entries are listed by name with no bytes. Never throws.
 */
import { inflateBounded, type InflateStats } from '../dmarc-report/unpack.js';

export interface ZipListing {
  readonly name: string;
  readonly encrypted: boolean;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Offset of the entry's data (after its local header), or -1 when the local header is unusable. */
  readonly dataStart: number;
}

export type ZipDirectory = { ok: true; entries: ZipListing[] } | { ok: false; error: string };

const u16 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

const EOCD = 0x06054b50;
const CEN = 0x02014b50;
const LOC = 0x04034b50;
/** Names longer than this are cut: they are labels, never paths. */
const MAX_NAME = 255;

/** True when the bytes start like a ZIP archive (a local header, or the end record of an empty one). */
export function looksLikeZip(b: Uint8Array): boolean {
  return b.length >= 22 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
}

/** The central directory, at most `maxEntries` + 1 entries read (one more says "too many"). */
export function readZipDirectory(data: Uint8Array, maxEntries: number): ZipDirectory {
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (u32(data, i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return { ok: false, error: 'no end of central directory' };
  const count = u16(data, eocd + 10);
  let at = u32(data, eocd + 16);
  if (count === 0xffff || at === 0xffffffff) return { ok: false, error: 'zip64 archives are not read' };
  const entries: ZipListing[] = [];
  const names = new TextDecoder('utf-8');
  for (let n = 0; n < count && entries.length <= maxEntries; n++) {
    if (at + 46 > data.length || u32(data, at) !== CEN) return { ok: false, error: 'corrupt central directory' };
    const flags = u16(data, at + 8);
    const method = u16(data, at + 10);
    const compressedSize = u32(data, at + 20);
    const size = u32(data, at + 24);
    const nameLen = u16(data, at + 28);
    const local = u32(data, at + 42);
    if (at + 46 + nameLen > data.length) return { ok: false, error: 'corrupt central directory' };
    const name = names.decode(data.subarray(at + 46, at + 46 + Math.min(nameLen, MAX_NAME)));
    at += 46 + nameLen + u16(data, at + 30) + u16(data, at + 32);
    if (compressedSize === 0xffffffff || size === 0xffffffff) return { ok: false, error: 'zip64 entries are not read' };
    if (name.endsWith('/') && size === 0) continue; // a folder
    let dataStart = -1;
    if (local + 30 <= data.length && u32(data, local) === LOC) dataStart = local + 30 + u16(data, local + 26) + u16(data, local + 28);
    entries.push({ name, encrypted: (flags & 1) === 1, method, compressedSize, size, dataStart });
  }
  return { ok: true, entries };
}

export interface EntryLimits {
  /** Bytes still allowed for this message. */
  readonly remaining: number;
  /** Largest uncompressed:compressed ratio of an entry above `ratioFloor` bytes. */
  readonly maxRatio: number;
  readonly ratioFloor: number;
  readonly stats?: InflateStats;
}

export type EntryData = { ok: true; data: Uint8Array } | { ok: false; bomb: boolean; error: string };

/** One entry's bytes, or why not (`bomb`: a size limit; otherwise unreadable). */
export function readZipEntry(data: Uint8Array, e: ZipListing, lim: EntryLimits): EntryData {
  const allowed = Math.min(lim.remaining, Math.max(lim.ratioFloor, e.compressedSize * lim.maxRatio));
  if (e.size > allowed) return { ok: false, bomb: true, error: `${e.name} declares ${e.size} bytes from ${e.compressedSize} (more than ${allowed} allowed)` };
  if (e.dataStart < 0 || e.dataStart + e.compressedSize > data.length) return { ok: false, bomb: false, error: `${e.name}: truncated or corrupt local header` };
  const raw = data.subarray(e.dataStart, e.dataStart + e.compressedSize);
  if (e.method === 0) {
    if (e.compressedSize !== e.size) return { ok: false, bomb: false, error: `${e.name}: stored entry with mismatched sizes` };
    return { ok: true, data: raw };
  }
  if (e.method !== 8) return { ok: false, bomb: false, error: `${e.name}: unsupported compression method ${e.method}` };
  if (e.compressedSize === 0) return { ok: false, bomb: false, error: `${e.name}: empty deflate data` };
  // The declared size bounds the output: one that lies is stopped at the first byte past it.
  const r = inflateBounded(raw, e.size, lim.stats);
  if (!r.ok) return { ok: false, bomb: /more than/.test(r.error), error: `${e.name}: ${r.error}` };
  return { ok: true, data: r.data };
}
