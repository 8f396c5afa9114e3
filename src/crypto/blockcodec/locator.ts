/**
 * The bit locator of a block: the XOR of the indices of all set bits
 * (19 bits, enough for 65536 * 8 bit indices) plus the overall parity.
 * Flipping bit i changes the XOR by exactly i and flips the parity, so
 * comparing a stored locator with a recomputed one names the flipped bit.
 *
 * Bit i is bit (i & 7) of byte (i >> 3), bit 0 being the least significant.
 * Read as little-endian 32-bit words, bit k of word q is bit 32q + k, which
 * lets the hot loop work on words: the XOR of positions over a word is
 * (32q if the word has odd parity) XOR (positions inside the word), and the
 * inside part is linear, so it only needs the XOR of all words at the end.
 */

/** Result layout: bits 0..18 = XOR of set-bit indices, bit 19 = parity. */
export const LOCATOR_PARITY_BIT = 1 << 19;
export const LOCATOR_INDEX_MASK = LOCATOR_PARITY_BIT - 1;

/** Per byte value: XOR of the positions (0..7) of its set bits. */
const BYTE_POSITIONS = new Uint8Array(256);
/** Per byte value: parity of its set bits (0 or 1). */
const BYTE_PARITY = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  let x = 0;
  let p = 0;
  for (let k = 0; k < 8; k++) {
    if (b & (1 << k)) {
      x ^= k;
      p ^= 1;
    }
  }
  BYTE_POSITIONS[b] = x;
  BYTE_PARITY[b] = p;
}

/** True on little-endian hosts, where Int32Array reads match the bit numbering above. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * A word view over the whole of `u8`, usable by `locate` when the host is
 * little-endian and the bytes start 4-aligned; otherwise null (byte path).
 */
export function wordView(u8: Uint8Array): Int32Array | null {
  if (!LITTLE_ENDIAN || u8.byteOffset % 4 !== 0) return null;
  return new Int32Array(u8.buffer, u8.byteOffset, u8.length >>> 2);
}

function parity32(v: number): number {
  let x = v ^ (v >>> 16);
  x ^= x >>> 8;
  x ^= x >>> 4;
  return (0x6996 >>> (x & 15)) & 1;
}

/** XOR of the positions (0..31) of the set bits of a 32-bit word. */
function wordPositions(a: number): number {
  return (
    parity32(a & 0xaaaaaaaa) |
    (parity32(a & 0xcccccccc) << 1) |
    (parity32(a & 0xf0f0f0f0) << 2) |
    (parity32(a & 0xff00ff00) << 3) |
    (parity32(a & 0xffff0000) << 4)
  );
}

/**
 * Word part: returns the locator of `nw` words starting at word index `start`.
 * Chunks of 16 words keep one accumulator per word slot (the low 4 bits of
 * the word index) and only take a parity per chunk (the high bits).
 */
function locateWords(w: Int32Array, start: number, nw: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  let s8 = 0, s9 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0, s14 = 0, s15 = 0;
  let hi = 0;
  const chunks = nw >>> 4;
  let i = start;
  for (let c = 0; c < chunks; c++, i += 16) {
    const a0 = w[i]!, a1 = w[i + 1]!, a2 = w[i + 2]!, a3 = w[i + 3]!;
    const a4 = w[i + 4]!, a5 = w[i + 5]!, a6 = w[i + 6]!, a7 = w[i + 7]!;
    const a8 = w[i + 8]!, a9 = w[i + 9]!, a10 = w[i + 10]!, a11 = w[i + 11]!;
    const a12 = w[i + 12]!, a13 = w[i + 13]!, a14 = w[i + 14]!, a15 = w[i + 15]!;
    s0 ^= a0; s1 ^= a1; s2 ^= a2; s3 ^= a3; s4 ^= a4; s5 ^= a5; s6 ^= a6; s7 ^= a7;
    s8 ^= a8; s9 ^= a9; s10 ^= a10; s11 ^= a11; s12 ^= a12; s13 ^= a13; s14 ^= a14; s15 ^= a15;
    let x = a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7 ^ a8 ^ a9 ^ a10 ^ a11 ^ a12 ^ a13 ^ a14 ^ a15;
    x ^= x >>> 16;
    x ^= x >>> 8;
    x ^= x >>> 4;
    hi ^= c & -((0x6996 >>> (x & 15)) & 1);
  }
  // Bit j (< 4) of the odd-parity word-index XOR is the parity of the slots whose index has bit j.
  const b0 = s1 ^ s3 ^ s5 ^ s7 ^ s9 ^ s11 ^ s13 ^ s15;
  const b1 = s2 ^ s3 ^ s6 ^ s7 ^ s10 ^ s11 ^ s14 ^ s15;
  const b2 = s4 ^ s5 ^ s6 ^ s7 ^ s12 ^ s13 ^ s14 ^ s15;
  const b3 = s8 ^ s9 ^ s10 ^ s11 ^ s12 ^ s13 ^ s14 ^ s15;
  let all = s0 ^ s1 ^ s2 ^ s3 ^ s4 ^ s5 ^ s6 ^ s7 ^ b3;
  let q = (hi << 4) | parity32(b0) | (parity32(b1) << 1) | (parity32(b2) << 2) | (parity32(b3) << 3);
  // The words after the last full chunk.
  for (let j = chunks << 4; j < nw; j++) {
    const v = w[start + j]!;
    all ^= v;
    q ^= j & -parity32(v);
  }
  return ((q << 5) ^ wordPositions(all)) | (parity32(all) ? LOCATOR_PARITY_BIT : 0);
}

/** Byte path, for unaligned data, big-endian hosts and the tail of a block. */
function locateBytes(u8: Uint8Array, off: number, from: number, to: number): number {
  let x = 0;
  let p = 0;
  for (let o = from; o < to; o++) {
    const b = u8[off + o]!;
    const bp = BYTE_PARITY[b]!;
    x ^= BYTE_POSITIONS[b]! ^ ((o << 3) & -bp);
    p ^= bp;
  }
  return x | (p ? LOCATOR_PARITY_BIT : 0);
}

/**
 * Locator of the `n` bytes of `u8` at `off` (n <= 65536). `w` must be
 * `wordView(u8)`; words are used when `off` is 4-aligned.
 */
export function locate(u8: Uint8Array, w: Int32Array | null, off: number, n: number): number {
  if (w === null || off % 4 !== 0) return locateBytes(u8, off, 0, n);
  const nw = n >>> 2;
  return locateWords(w, off >>> 2, nw) ^ locateBytes(u8, off, nw << 2, n);
}
