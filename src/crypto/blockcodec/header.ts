/**
 * The container header: a 48-byte record followed by its own 8 check bytes
 * (the same code as a data block), stored twice. A single flipped bit in a
 * copy is repaired; a copy damaged beyond that is rebuilt from the other.
 *
 *   0  magic "PSTB"          8  data length, u64 little-endian (< 2^53)
 *   4  format version (1)   16  SHA-256 of the whole data (32 bytes)
 *   5  log2(block size)     48  check bytes of bytes 0..47
 *   6  reserved, zero (2)   56  second copy of bytes 0..55
 */
import { CHECK_SIZE, checkBlock, writeCheck } from './blockcheck.js';
import { wordView } from './locator.js';

export const MAGIC = Uint8Array.of(0x50, 0x53, 0x54, 0x42); // "PSTB"
export const FORMAT_VERSION = 1;
export const RECORD_BODY = 48;
export const RECORD_SIZE = RECORD_BODY + CHECK_SIZE;
export const HEADER_SIZE = 2 * RECORD_SIZE;
export const MIN_BLOCK_SHIFT = 9;
export const MAX_BLOCK_SHIFT = 16;

export interface HeaderFields {
  version: number;
  blockShift: number;
  length: number;
  sha256: Uint8Array;
}

/** Both header copies, check bytes included, exactly as the encoder writes them. */
export function encodeHeader(fields: HeaderFields): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  out.set(MAGIC, 0);
  out[4] = fields.version;
  out[5] = fields.blockShift;
  const view = new DataView(out.buffer);
  view.setUint32(8, fields.length >>> 0, true); // the low 32 bits (ToUint32 is modulo 2^32)
  view.setUint32(12, Math.floor(fields.length / 0x1_0000_0000), true);
  out.set(fields.sha256, 16);
  writeCheck(out, wordView(out), 0, RECORD_BODY);
  out.copyWithin(RECORD_SIZE, 0, RECORD_SIZE);
  return out;
}

export type HeaderRead =
  | { readonly ok: true; readonly fields: HeaderFields; readonly canonical: Uint8Array }
  | { readonly ok: false; readonly reason: string };

/** The corrected body of the copy at `off`, or null if it is missing or beyond repair. */
function readCopy(container: Uint8Array, w: Int32Array | null, off: number): Uint8Array | null {
  if (container.length < off + RECORD_SIZE) return null;
  const verdict = checkBlock(container, w, off, RECORD_BODY);
  switch (verdict.kind) {
    case 'clean':
    case 'check':
      return container.subarray(off, off + RECORD_BODY);
    case 'data':
      return verdict.fixed;
    case 'bad':
      return null;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether the second header copy is byte for byte the first. */
function sameCopies(container: Uint8Array): boolean {
  for (let i = 0; i < RECORD_SIZE; i++) if (container[i] !== container[RECORD_SIZE + i]) return false;
  return true;
}

function hasMagic(u8: Uint8Array, off: number): boolean {
  return u8.length >= off + MAGIC.length && equalBytes(u8.subarray(off, off + MAGIC.length), MAGIC);
}

/** Why neither copy could be used: tells foreign files and newer versions apart from damage. */
function diagnose(container: Uint8Array): string {
  const starts = [0, RECORD_SIZE].filter((off) => hasMagic(container, off));
  if (starts.length === 0) return 'not a postern blob: bad magic';
  const versions = starts.map((off) => container[off + 4]);
  if (!versions.includes(FORMAT_VERSION)) return `unsupported format version ${String(versions[0])}`;
  return 'header damaged beyond repair in both copies';
}

function parseBody(body: Uint8Array): HeaderFields | string {
  if (!hasMagic(body, 0)) return 'not a postern blob: bad magic';
  const version = body[4]!;
  if (version !== FORMAT_VERSION) return `unsupported format version ${version}`;
  const blockShift = body[5]!;
  if (blockShift < MIN_BLOCK_SHIFT || blockShift > MAX_BLOCK_SHIFT) return `invalid block size 2^${blockShift}`;
  if (body[6] !== 0 || body[7] !== 0) return 'reserved header bytes are not zero';
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const high = view.getUint32(12, true);
  if (high > 0x1f_ffff) return 'data length exceeds 2^53 - 1';
  const length = high * 0x1_0000_0000 + view.getUint32(8, true);
  return { version, blockShift, length, sha256: body.slice(16, 48) };
}

/**
 * Reads the header from the first HEADER_SIZE bytes of `container` (a
 * prefix is enough). `canonical` is the header as it should be stored; the
 * caller compares it with the stored bytes to list and apply repairs.
 */
export function readHeaderRecord(container: Uint8Array): HeaderRead {
  if (container.length === 0) return { ok: false, reason: 'empty container: no header' };
  if (container.length < RECORD_SIZE) {
    return { ok: false, reason: `container is ${container.length} bytes, shorter than a header` };
  }
  const w = wordView(container);
  // The usual case: a clean first copy and a second copy that is the same bytes. Then
  // the stored header is already canonical (a clean check means the check bytes are
  // exactly what writeCheck writes, and parse/encode are inverse on valid fields), so
  // the second copy's check and the re-encoding are skipped.
  if (container.length >= HEADER_SIZE && sameCopies(container) && checkBlock(container, w, 0, RECORD_BODY).kind === 'clean') {
    const fields = parseBody(container.subarray(0, RECORD_BODY));
    if (typeof fields === 'string') return { ok: false, reason: fields };
    return { ok: true, fields, canonical: container.subarray(0, HEADER_SIZE) };
  }
  const first = readCopy(container, w, 0);
  const second = readCopy(container, w, RECORD_SIZE);
  if (first !== null && second !== null && !equalBytes(first, second)) {
    return { ok: false, reason: 'the two header copies disagree' };
  }
  const body = first ?? second;
  if (body === null) return { ok: false, reason: diagnose(container) };
  const fields = parseBody(body);
  if (typeof fields === 'string') return { ok: false, reason: fields };
  return { ok: true, fields, canonical: encodeHeader(fields) };
}
