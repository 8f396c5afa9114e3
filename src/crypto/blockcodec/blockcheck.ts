/**
 * The 8 check bytes that follow every block (and every header copy):
 *
 *   bytes 0..3  CRC-32 (IEEE, as zlib computes it) of the block's data, little-endian
 *   bytes 4..7  locator word, little-endian: bits 0..18 XOR of set-bit indices,
 *               bit 19 parity of the data, bits 20..31 zero
 *
 * Check bit j is bit (j & 7) of check byte (j >> 3): bits 0..31 are the CRC,
 * bits 32..63 the locator word.
 */
import { crc32 } from 'node:zlib';
import { LOCATOR_INDEX_MASK, LOCATOR_PARITY_BIT, locate } from './locator.js';

export const CHECK_SIZE = 8;

export type BlockVerdict =
  | { readonly kind: 'clean' }
  /** One data bit was flipped; `fixed` is a corrected copy of the data. */
  | { readonly kind: 'data'; readonly bit: number; readonly fixed: Uint8Array }
  /** One check bit was flipped; the data is intact. */
  | { readonly kind: 'check'; readonly bit: number }
  | { readonly kind: 'bad'; readonly reason: string };

const CLEAN: BlockVerdict = { kind: 'clean' };

function readU32(u8: Uint8Array, at: number): number {
  return (u8[at]! | (u8[at + 1]! << 8) | (u8[at + 2]! << 16) | (u8[at + 3]! << 24)) >>> 0;
}

function writeU32(u8: Uint8Array, at: number, v: number): void {
  u8[at] = v & 0xff;
  u8[at + 1] = (v >>> 8) & 0xff;
  u8[at + 2] = (v >>> 16) & 0xff;
  u8[at + 3] = (v >>> 24) & 0xff;
}

/** Index of the single set bit of a 32-bit value, or -1 if zero or several bits are set. */
function singleBit(v: number): number {
  if (v === 0 || (v & (v - 1)) !== 0) return -1;
  return 31 - Math.clz32(v);
}

/** Writes the check bytes of the `n` data bytes at `off` into `u8` at `off + n`. */
export function writeCheck(u8: Uint8Array, w: Int32Array | null, off: number, n: number): void {
  writeU32(u8, off + n, crc32(u8.subarray(off, off + n)));
  writeU32(u8, off + n + 4, locate(u8, w, off, n));
}

/**
 * Checks the `n` data bytes at `off` against the check bytes that follow
 * them. A repair is only proposed when flipping that one bit makes data and
 * check bytes fully consistent again (CRC, locator, parity, zero bits), so
 * the decoder never trades a detectable error for a wrong block: two flipped
 * bits are always reported, never "corrected".
 */
export function checkBlock(u8: Uint8Array, w: Int32Array | null, off: number, n: number): BlockVerdict {
  const storedCrc = readU32(u8, off + n);
  const storedLoc = readU32(u8, off + n + 4);
  const dCrc = (crc32(u8.subarray(off, off + n)) ^ storedCrc) >>> 0;
  const dLoc = (locate(u8, w, off, n) ^ storedLoc) >>> 0;
  if (dCrc === 0 && dLoc === 0) return CLEAN;

  // A flip in the check bytes leaves the data, hence one of the two words, intact.
  if (dCrc === 0 && singleBit(dLoc) >= 0) return { kind: 'check', bit: 32 + singleBit(dLoc) };
  if (dLoc === 0 && singleBit(dCrc) >= 0) return { kind: 'check', bit: singleBit(dCrc) };

  // A flip of data bit i changes the locator by exactly i plus the parity bit.
  if ((dLoc & ~(LOCATOR_INDEX_MASK | LOCATOR_PARITY_BIT)) === 0 && (dLoc & LOCATOR_PARITY_BIT) !== 0) {
    const bit = dLoc & LOCATOR_INDEX_MASK;
    if (bit < n * 8) {
      const fixed = Uint8Array.prototype.slice.call(u8, off, off + n); // a copy even for a Buffer
      fixed[bit >>> 3]! ^= 1 << (bit & 7);
      if (crc32(fixed) === storedCrc) return { kind: 'data', bit, fixed };
    }
  }
  return { kind: 'bad', reason: describe(dCrc, dLoc) };
}

function describe(dCrc: number, dLoc: number): string {
  if (dCrc === 0) return 'locator mismatch that no single flipped bit explains';
  if (dLoc === 0) return 'CRC-32 mismatch that no single flipped bit explains';
  return 'CRC-32 and locator mismatch: more than one bit is damaged';
}
