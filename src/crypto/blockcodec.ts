/**
 * The blob container: a checksummed, self-repairing format for stored
 * messages. Every block carries a CRC-32 that detects damage and a bit
 * locator that names a single flipped bit so it can be repaired; the header
 * records the SHA-256 of the whole data, which is the final word on whether
 * decoded bytes are the bytes that were written. Layout: docs/blob-format.md.
 */
import { Buffer } from 'node:buffer';
import crypto, { createHash } from 'node:crypto';
import { PosternError } from '../core/errors.js';
import { CHECK_SIZE, checkBlock, writeCheck } from './blockcodec/blockcheck.js';
import {
  FORMAT_VERSION,
  HEADER_SIZE,
  MAX_BLOCK_SHIFT,
  MIN_BLOCK_SHIFT,
  encodeHeader,
  readHeaderRecord,
} from './blockcodec/header.js';
import { wordView } from './blockcodec/locator.js';

export const BLOB_FORMAT_VERSION = FORMAT_VERSION;
/** Bytes at the start of a container that hold the header (both copies). */
export const BLOB_HEADER_SIZE = HEADER_SIZE;
export const DEFAULT_BLOCK_SIZE = 4096;

export interface Correction {
  block: number;
  /** Bit index within the block's data, its 8 check bytes, or the header area (block -1). */
  bit: number;
  area: 'data' | 'check' | 'header';
}

/** block -1 = header, -2 = whole-blob digest. */
export interface Damage {
  block: number;
  reason: string;
}

export interface DecodeResult {
  /** False if anything is uncorrectable or the SHA-256 does not match. */
  ok: boolean;
  /** The original bytes, only when ok (always null from verifyBlob). */
  data: Uint8Array | null;
  /** Single-bit repairs done in memory. */
  corrections: Correction[];
  /** What could not be repaired. */
  damage: Damage[];
  /** A fully corrected container to write back, when corrections.length > 0 and ok. */
  repaired: Uint8Array | null;
  /** Hex digest recorded in the header ('' if the header is unreadable). */
  sha256: string;
}

function blockShiftOf(blockSize: number): number {
  const shift = Math.log2(blockSize);
  if (!Number.isInteger(shift) || shift < MIN_BLOCK_SHIFT || shift > MAX_BLOCK_SHIFT) {
    throw new PosternError('INVARIANT', `blob block size must be a power of two from 512 to 65536, got ${blockSize}`);
  }
  return shift;
}

/** Size in bytes of the container that encodeBlob produces for `dataLength` bytes. */
export function containerSize(dataLength: number, blockSize: number = DEFAULT_BLOCK_SIZE): number {
  blockShiftOf(blockSize);
  if (!Number.isSafeInteger(dataLength) || dataLength < 0) {
    throw new PosternError('INVARIANT', `blob length must be a non-negative safe integer, got ${dataLength}`);
  }
  return HEADER_SIZE + dataLength + Math.ceil(dataLength / blockSize) * CHECK_SIZE;
}

/** The SHA-256 of the data: what a container's header records, and (in hex) the id blob stores name it by. */
export function contentDigest(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** `sha256`, when given, must be contentDigest(data) (a caller that named the blob by it already has it). */
export function encodeBlob(data: Uint8Array, blockSize: number = DEFAULT_BLOCK_SIZE, sha256: Uint8Array = contentDigest(data)): Uint8Array {
  const blockShift = blockShiftOf(blockSize);
  const out = new Uint8Array(containerSize(data.length, blockSize));
  out.set(encodeHeader({ version: FORMAT_VERSION, blockShift, length: data.length, sha256 }), 0);
  const w = wordView(out);
  let off = HEADER_SIZE;
  for (let start = 0; start < data.length; start += blockSize) {
    const n = Math.min(blockSize, data.length - start);
    out.set(data.subarray(start, start + n), off);
    writeCheck(out, w, off, n);
    off += n + CHECK_SIZE;
  }
  return out;
}

export function readHeader(
  container: Uint8Array,
): { version: number; blockSize: number; length: number; sha256: string } | null {
  if (!(container instanceof Uint8Array)) return null;
  const read = readHeaderRecord(container);
  if (!read.ok) return null;
  const { version, blockShift, length, sha256 } = read.fields;
  return { version, blockSize: 2 ** blockShift, length, sha256: Buffer.from(sha256).toString('hex') };
}

/**
 * The size of the whole container as its header states it, from its first
 * bytes (at least the header); null when the header cannot be read. A
 * reader that reads into a buffer of its own knows from it whether it has
 * the whole file.
 */
export function statedContainerSize(start: Uint8Array): number | null {
  const header = readHeaderRecord(start);
  return header.ok ? containerSize(header.fields.length, 2 ** header.fields.blockShift) : null;
}

export function decodeBlob(container: Uint8Array): DecodeResult {
  return guarded(container, 'copy');
}

/**
 * As decodeBlob, but when the data is one clean block it is a view into the
 * container rather than a copy: for a reader that uses the data and drops it
 * with the container (a derive on a reader thread), saving an allocation and
 * a copy per message.
 */
export function decodeBlobView(container: Uint8Array): DecodeResult {
  return guarded(container, 'view');
}

/**
 * The data for a read that serves it: taken as soon as its SHA-256 matches
 * the header's, which no damage in it can survive, without the per-block
 * CRC and locator checks (about half the cost of a read of a small message).
 * Only when the digest differs, or the header needs repair or the size is
 * off, does it decode block by block as decodeBlob does, locating and
 * repairing a flipped bit. A flipped bit in a block's check bytes alone
 * leaves the data intact: such a read serves the data and does not report
 * it; verifyBlob (the scrub, a put finding the blob already there) does, and
 * repairs it. `view`: a single block's data may be a view into the container.
 */
export function readBlobData(container: Uint8Array, want: 'copy' | 'view' = 'copy'): DecodeResult {
  try {
    const fast = digestFirst(container, want);
    if (fast) return fast;
  } catch {
    // Whatever is odd about it, the full decode below finds and reports.
  }
  return guarded(container, want);
}

/** The data when the container is whole, its header clean and its digest right; otherwise null. */
function digestFirst(container: Uint8Array, want: 'copy' | 'view'): DecodeResult | null {
  if (!(container instanceof Uint8Array)) return null;
  const header = readHeaderRecord(container);
  if (!header.ok) return null;
  if (!isStoredHeader(container, header.canonical)) return null; // a header copy to repair
  const { blockShift, length } = header.fields;
  const blockSize = 2 ** blockShift;
  if (container.length !== containerSize(length, blockSize)) return null;
  const blocks = Math.ceil(length / blockSize);
  let data: Uint8Array;
  if (blocks === 1 && want === 'view') data = container.subarray(HEADER_SIZE, HEADER_SIZE + length);
  else {
    data = new Uint8Array(length);
    for (let b = 0, off = HEADER_SIZE; b < blocks; b++) {
      const n = Math.min(blockSize, length - b * blockSize);
      data.set(container.subarray(off, off + n), b * blockSize);
      off += n + CHECK_SIZE;
    }
  }
  const sha256 = Buffer.from(header.fields.sha256).toString('hex');
  if (sha256Hex(data) !== sha256) return null;
  return { ok: true, data, corrections: [], damage: [], repaired: null, sha256 };
}

/** Same checks as decodeBlob without assembling the data (`data` is always null). */
export function verifyBlob(container: Uint8Array): DecodeResult {
  return guarded(container, 'none');
}

type Want = 'copy' | 'view' | 'none';

/** The SHA-256 of bytes in hand, in hex: one-shot, without building a Hash object (about a fifth of the cost for a few KiB). */
function sha256Hex(bytes: Uint8Array): string {
  return crypto.hash('sha256', bytes, 'hex');
}

function failed(damage: Damage[], sha256: string, corrections: Correction[] = []): DecodeResult {
  return { ok: false, data: null, corrections, damage, repaired: null, sha256 };
}

/** Decoding never throws: whatever escapes is reported as damage with ok=false. */
function guarded(container: Uint8Array, want: Want): DecodeResult {
  try {
    return run(container, want);
  } catch (err) {
    return failed([{ block: -1, reason: `internal error while decoding: ${String(err)}` }], '');
  }
}

/**
 * Whether the stored header was found canonical as it is: readHeaderRecord
 * then hands back a view of the container itself, so no byte can differ.
 */
function isStoredHeader(container: Uint8Array, canonical: Uint8Array): boolean {
  return canonical.buffer === container.buffer && canonical.byteOffset === container.byteOffset;
}

/** Every bit that differs between the stored header and the canonical one. */
function headerCorrections(container: Uint8Array, canonical: Uint8Array): Correction[] {
  const out: Correction[] = [];
  if (isStoredHeader(container, canonical)) return out; // the usual case
  const end = Math.min(container.length, canonical.length);
  for (let i = 0; i < end; i++) {
    const diff = container[i]! ^ canonical[i]!;
    for (let k = 0; k < 8; k++) if (diff & (1 << k)) out.push({ block: -1, bit: i * 8 + k, area: 'header' });
  }
  return out;
}

function run(container: Uint8Array, want: Want): DecodeResult {
  if (!(container instanceof Uint8Array)) return failed([{ block: -1, reason: 'not a byte array' }], '');
  const header = readHeaderRecord(container);
  if (!header.ok) return failed([{ block: -1, reason: header.reason }], '');
  const { blockShift, length } = header.fields;
  const sha256 = Buffer.from(header.fields.sha256).toString('hex');
  const blockSize = 2 ** blockShift;
  const blocks = Math.ceil(length / blockSize);
  const corrections = headerCorrections(container, header.canonical);
  const damage: Damage[] = [];

  const expected = containerSize(length, blockSize);
  if (container.length < HEADER_SIZE) {
    return failed([{ block: -1, reason: `truncated: container is ${container.length} bytes, header implies ${expected}` }], sha256);
  }
  if (container.length > expected) {
    damage.push({ block: blocks, reason: `${container.length - expected} unexpected bytes after the last block` });
  }

  // Byte offsets and bit masks to flip in a copy of the container when writing back.
  const fixes: Array<[number, number]> = [];
  // Verify with more than one block hashes block by block; otherwise the data is hashed once, whole.
  const hash = want === 'none' && blocks > 1 ? createHash('sha256') : null;
  // A size mismatch is already fatal; never allocate what a damaged header claims.
  const fits = want !== 'none' && container.length === expected;
  let data: Uint8Array | null = fits && (want === 'copy' || blocks > 1) ? new Uint8Array(length) : null;
  /** The one block's bytes (verify, or a view): hashed whole at the end. */
  let single: Uint8Array | null = null;
  const w = wordView(container);
  let off = HEADER_SIZE;
  for (let b = 0; b < blocks; b++) {
    const start = b * blockSize;
    const n = Math.min(blockSize, length - start);
    if (off + n + CHECK_SIZE > container.length) {
      damage.push({ block: b, reason: `truncated: container is ${container.length} bytes, header implies ${expected}` });
      break;
    }
    const verdict = checkBlock(container, w, off, n);
    let bytes: Uint8Array | null = container.subarray(off, off + n);
    if (verdict.kind === 'data') {
      bytes = verdict.fixed;
      corrections.push({ block: b, bit: verdict.bit, area: 'data' });
      fixes.push([off + (verdict.bit >>> 3), 1 << (verdict.bit & 7)]);
    } else if (verdict.kind === 'check') {
      corrections.push({ block: b, bit: verdict.bit, area: 'check' });
      fixes.push([off + n + (verdict.bit >>> 3), 1 << (verdict.bit & 7)]);
    } else if (verdict.kind === 'bad') {
      damage.push({ block: b, reason: verdict.reason });
      bytes = null;
    }
    // Once anything is lost the digest cannot match; keep checking blocks only for the report.
    if (bytes !== null && damage.length === 0) {
      if (data !== null) data.set(bytes, start);
      else if (hash !== null) hash.update(bytes);
      else single = bytes;
    }
    off += n + CHECK_SIZE;
  }

  // A view is the block itself (or, repaired, its corrected copy).
  if (fits && data === null && damage.length === 0) data = single ?? new Uint8Array(0);
  // Decoding hashes the assembled data in one call, which is cheaper than per block.
  const digest = damage.length > 0 ? '' : hash !== null ? hash.digest('hex') : sha256Hex(data ?? single ?? new Uint8Array(0));
  if (damage.length === 0 && digest !== sha256) {
    damage.push({ block: -2, reason: 'SHA-256 of the data does not match the header' });
  }
  if (damage.length > 0) return failed(damage, sha256, corrections);

  let repaired: Uint8Array | null = null;
  if (corrections.length > 0) {
    repaired = new Uint8Array(container); // a copy: Buffer#slice would alias the input
    repaired.set(header.canonical, 0);
    for (const [at, mask] of fixes) repaired[at]! ^= mask;
  }
  return { ok: true, data, corrections, damage, repaired, sha256 };
}
