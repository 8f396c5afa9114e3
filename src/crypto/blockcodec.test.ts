import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PosternError } from '../core/errors.js';
import {
  BLOB_FORMAT_VERSION,
  BLOB_HEADER_SIZE,
  containerSize,
  decodeBlob,
  decodeBlobView,
  encodeBlob,
  readBlobData,
  readHeader,
  statedContainerSize,
  verifyBlob,
  type DecodeResult,
} from './blockcodec.js';
import { encodeHeader, readHeaderRecord } from './blockcodec/header.js';
import { locate, wordView } from './blockcodec/locator.js';

const CHECK = 8;
const BLOCK_SIZES = [512, 1024, 2048, 4096, 65536];

function equal(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

function flip(container: Uint8Array, ...bits: number[]): Uint8Array {
  const out = container.slice();
  for (const bit of bits) out[bit >>> 3]! ^= 1 << (bit & 7);
  return out;
}

/** The same bytes starting at an odd address, to exercise the byte path. */
function unaligned(u8: Uint8Array): Uint8Array {
  const backing = new Uint8Array(u8.length + 1);
  backing.set(u8, 1);
  return backing.subarray(1);
}

/** Byte offset of block `b`'s data and its data length. */
function blockSpan(dataLength: number, blockSize: number, b: number): { off: number; n: number } {
  return { off: BLOB_HEADER_SIZE + b * (blockSize + CHECK), n: Math.min(blockSize, dataLength - b * blockSize) };
}

/** Reference locator: one bit at a time, straight from the definition. */
function referenceLocator(u8: Uint8Array): number {
  let x = 0;
  let p = 0;
  for (let i = 0; i < u8.length * 8; i++) {
    if (u8[i >>> 3]! & (1 << (i & 7))) {
      x ^= i;
      p ^= 1;
    }
  }
  return x | (p << 19);
}

function expectRejected(r: DecodeResult): void {
  expect(r.ok).toBe(false);
  expect(r.data).toBeNull();
  expect(r.repaired).toBeNull();
  expect(r.damage.length).toBeGreaterThan(0);
  for (const d of r.damage) {
    expect(d.reason.length).toBeGreaterThan(0);
    expect(d.reason).not.toMatch(/internal error/);
  }
}

/** A blob with 1..5 blocks (the last one possibly short) and its container. */
const blobArb = fc
  .record({
    blockSize: fc.constantFrom(512, 1024, 2048),
    blocks: fc.integer({ min: 1, max: 5 }),
    tail: fc.integer({ min: 1, max: 2048 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .map(({ blockSize, blocks, tail, seed }) => {
    const length = (blocks - 1) * blockSize + Math.min(tail, blockSize);
    const data = new Uint8Array(length);
    // Deterministic filler per seed so that shrinking stays meaningful.
    let s = seed | 1;
    for (let i = 0; i < length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      data[i] = s & 0xff;
    }
    return { data, blockSize, container: encodeBlob(data, blockSize), blocks };
  });

describe('locator', () => {
  it('matches the bit-by-bit definition on word and byte paths', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000, size: 'max' }), fc.integer({ min: 0, max: 7 }), (bytes, shift) => {
        const backing = new Uint8Array(bytes.length + 8);
        backing.set(bytes, shift);
        const expected = referenceLocator(bytes);
        expect(locate(backing, wordView(backing), shift, bytes.length)).toBe(expected);
        expect(locate(backing, null, shift, bytes.length)).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('handles full 64 KiB blocks', () => {
    for (let i = 0; i < 8; i++) {
      const bytes = new Uint8Array(randomBytes(65536));
      expect(locate(bytes, wordView(bytes), 0, bytes.length)).toBe(referenceLocator(bytes));
    }
  });
});

describe('layout', () => {
  it('writes the documented header and check bytes', () => {
    const data = new TextEncoder().encode('hello, postern');
    const c = encodeBlob(data, 512);
    expect(c.length).toBe(BLOB_HEADER_SIZE + data.length + CHECK);
    expect(BLOB_HEADER_SIZE).toBe(112);
    expect(new TextDecoder().decode(c.subarray(0, 4))).toBe('PSTB');
    expect(c[4]).toBe(BLOB_FORMAT_VERSION);
    expect(c[5]).toBe(9);
    const view = new DataView(c.buffer, c.byteOffset, c.length);
    expect(view.getUint32(8, true)).toBe(data.length);
    expect(view.getUint32(12, true)).toBe(0);
    expect(Buffer.from(c.subarray(16, 48)).toString('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(view.getUint32(48, true)).toBe(crc32(c.subarray(0, 48)));
    expect(view.getUint32(52, true)).toBe(referenceLocator(c.subarray(0, 48)));
    expect(equal(c.subarray(56, 112), c.subarray(0, 56))).toBe(true);
    expect(equal(c.subarray(112, 112 + data.length), data)).toBe(true);
    expect(view.getUint32(112 + data.length, true)).toBe(crc32(data));
    expect(view.getUint32(116 + data.length, true)).toBe(referenceLocator(data));
  });

  it('reads a clean header as its own canonical form, and re-encodes a header with one copy damaged', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.constantFrom(...BLOCK_SIZES), fc.nat(111), (data, size, bit) => {
        const c = encodeBlob(data, size);
        const clean = readHeaderRecord(c);
        if (!clean.ok) return false;
        // The clean header is the stored bytes themselves, exactly what the encoder writes.
        expect(equal(clean.canonical, encodeHeader(clean.fields))).toBe(true);
        expect(equal(clean.canonical, c.subarray(0, 112))).toBe(true);
        // One flipped bit anywhere in either copy: the canonical form is still the encoder's.
        const damaged = Uint8Array.from(c);
        damaged[bit]! ^= 1 << (bit % 8);
        const read = readHeaderRecord(damaged);
        return read.ok && equal(read.canonical, c.subarray(0, 112)) && decodeBlob(damaged).corrections.length === 1;
      }),
      { numRuns: 300 },
    );
  });

  it('rejects invalid block sizes', () => {
    for (const bad of [0, 256, 1000, 4095, 131072, Number.NaN]) {
      expect(() => encodeBlob(new Uint8Array(1), bad)).toThrow(PosternError);
      expect(() => containerSize(1, bad)).toThrow(PosternError);
    }
    expect(() => containerSize(-1)).toThrow(PosternError);
  });
});

describe('round trip', () => {
  it('restores edge sizes at every block size', () => {
    for (const bs of BLOCK_SIZES) {
      for (const len of [0, 1, bs - 1, bs, bs + 1, 3 * bs + 17]) {
        const data = new Uint8Array(randomBytes(len));
        const c = encodeBlob(data, bs);
        expect(c.length).toBe(containerSize(len, bs));
        const r = decodeBlob(c);
        expect(r.ok).toBe(true);
        expect(equal(r.data, data)).toBe(true);
        expect(r.corrections).toEqual([]);
        expect(r.damage).toEqual([]);
        expect(r.repaired).toBeNull();
        expect(r.sha256).toBe(createHash('sha256').update(data).digest('hex'));
        expect(readHeader(c)).toEqual({ version: 1, blockSize: bs, length: len, sha256: r.sha256 });
        const v = verifyBlob(c);
        expect(v.ok).toBe(true);
        expect(v.data).toBeNull();
      }
    }
  });

  it('uses a 4 KiB default block size', () => {
    const data = new Uint8Array(randomBytes(5000));
    expect(readHeader(encodeBlob(data))?.blockSize).toBe(4096);
    expect(containerSize(5000)).toBe(encodeBlob(data).length);
  });

  it('restores random data, also from an unaligned container', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20000, size: 'max' }), fc.constantFrom(...BLOCK_SIZES), (data, bs) => {
        const c = encodeBlob(data, bs);
        for (const view of [c, unaligned(c)]) {
          const r = decodeBlob(view);
          expect(r.ok).toBe(true);
          expect(equal(r.data, data)).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('accepts a zero-length blob: a header and nothing else', () => {
    const c = encodeBlob(new Uint8Array(0));
    expect(c.length).toBe(BLOB_HEADER_SIZE);
    const r = decodeBlob(c);
    expect(r.ok).toBe(true);
    expect(r.data?.length).toBe(0);
  });
});

describe('single-bit repair', () => {
  it('repairs one flipped bit in any block, data or check bytes', () => {
    fc.assert(
      fc.property(blobArb, fc.nat(), fc.nat(), fc.boolean(), ({ data, blockSize, container, blocks }, bRaw, bitRaw, odd) => {
        const block = bRaw % blocks;
        const { off, n } = blockSpan(data.length, blockSize, block);
        const bit = bitRaw % ((n + CHECK) * 8);
        const damaged = flip(container, off * 8 + bit);
        const expected = bit < n * 8 ? { block, bit, area: 'data' } : { block, bit: bit - n * 8, area: 'check' };
        const r = decodeBlob(odd ? unaligned(damaged) : damaged);
        expect(r.ok).toBe(true);
        expect(equal(r.data, data)).toBe(true);
        expect(r.damage).toEqual([]);
        expect(r.corrections).toEqual([expected]);
        expect(equal(r.repaired, container)).toBe(true);
        // The caller's buffer is left as it was.
        expect(equal(damaged, container)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('repairs every single bit of a short last block exhaustively', () => {
    const data = new Uint8Array(randomBytes(512 + 37));
    const c = encodeBlob(data, 512);
    const { off, n } = blockSpan(data.length, 512, 1);
    for (let bit = 0; bit < (n + CHECK) * 8; bit++) {
      const r = decodeBlob(flip(c, off * 8 + bit));
      expect(r.ok).toBe(true);
      expect(r.corrections).toHaveLength(1);
      expect(equal(r.repaired, c)).toBe(true);
    }
  });

  it('repairs one flipped bit in a 64 KiB block', () => {
    const data = new Uint8Array(randomBytes(65536 + 100));
    const c = encodeBlob(data, 65536);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: (65536 + CHECK) * 8 - 1 }), (bit) => {
        const r = decodeBlob(flip(c, BLOB_HEADER_SIZE * 8 + bit));
        expect(r.ok).toBe(true);
        expect(r.corrections).toEqual([bit < 65536 * 8 ? { block: 0, bit, area: 'data' } : { block: 0, bit: bit - 65536 * 8, area: 'check' }]);
        expect(equal(r.data, data)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('repairs one flipped bit in the header', () => {
    fc.assert(
      fc.property(blobArb, fc.integer({ min: 0, max: BLOB_HEADER_SIZE * 8 - 1 }), ({ data, container }, bit) => {
        const damaged = flip(container, bit);
        const r = decodeBlob(damaged);
        expect(r.ok).toBe(true);
        expect(equal(r.data, data)).toBe(true);
        expect(r.corrections).toEqual([{ block: -1, bit, area: 'header' }]);
        expect(equal(r.repaired, container)).toBe(true);
        expect(readHeader(damaged)).toEqual(readHeader(container));
      }),
      { numRuns: 300 },
    );
  });

  it('repairs one flipped bit in each of several blocks', () => {
    fc.assert(
      fc.property(blobArb, fc.array(fc.nat(), { minLength: 5, maxLength: 5 }), ({ data, blockSize, container, blocks }, raws) => {
        const expected = [];
        const bits = [];
        for (let block = 0; block < blocks; block++) {
          const { off, n } = blockSpan(data.length, blockSize, block);
          const bit = raws[block]! % ((n + CHECK) * 8);
          bits.push(off * 8 + bit);
          expected.push(bit < n * 8 ? { block, bit, area: 'data' } : { block, bit: bit - n * 8, area: 'check' });
        }
        const r = decodeBlob(flip(container, ...bits));
        expect(r.ok).toBe(true);
        expect(equal(r.data, data)).toBe(true);
        expect(r.corrections).toEqual(expected);
        expect(equal(r.repaired, container)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('readBlobData (reads: the digest first)', () => {
  it('gives the data of a clean container, as a view of one block when asked, a copy otherwise', () => {
    fc.assert(
      fc.property(blobArb, fc.boolean(), ({ data, container, blocks }, odd) => {
        const c = odd ? unaligned(container) : container;
        for (const want of ['copy', 'view'] as const) {
          const r = readBlobData(c, want);
          expect(r.ok).toBe(true);
          expect(equal(r.data, data)).toBe(true);
          expect([r.corrections, r.damage, r.repaired]).toEqual([[], [], null]);
          expect(r.sha256).toBe(createHash('sha256').update(data).digest('hex'));
          const shared = r.data!.length > 0 && r.data!.buffer === c.buffer;
          expect(shared).toBe(want === 'view' && blocks === 1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('repairs a flipped data or header bit as decodeBlob does', () => {
    fc.assert(
      fc.property(blobArb, fc.nat(), fc.nat(), fc.boolean(), ({ data, blockSize, container, blocks }, bRaw, bitRaw, inHeader) => {
        let bit: number;
        if (inHeader) bit = bitRaw % (BLOB_HEADER_SIZE * 8);
        else {
          const { off, n } = blockSpan(data.length, blockSize, bRaw % blocks);
          bit = off * 8 + (bitRaw % (n * 8));
        }
        const damaged = flip(container, bit);
        const r = readBlobData(damaged);
        expect(r).toEqual(decodeBlob(damaged));
        expect(r.ok).toBe(true);
        expect(r.corrections).toHaveLength(1);
        expect(equal(r.data, data)).toBe(true);
        expect(equal(r.repaired, container)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('serves the data past a flip in check bytes alone, which verifyBlob still finds and repairs', () => {
    fc.assert(
      fc.property(blobArb, fc.nat(), fc.integer({ min: 0, max: CHECK * 8 - 1 }), ({ data, blockSize, container, blocks }, bRaw, bit) => {
        const { off, n } = blockSpan(data.length, blockSize, bRaw % blocks);
        const damaged = flip(container, (off + n) * 8 + bit);
        const r = readBlobData(damaged);
        expect(r.ok).toBe(true);
        expect(equal(r.data, data)).toBe(true);
        expect(r.corrections).toEqual([]);
        const v = verifyBlob(damaged);
        expect(v.corrections).toEqual([{ block: bRaw % blocks, bit, area: 'check' }]);
        expect(equal(v.repaired, container)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses what decodeBlob refuses: two flips in a block, a cut or lengthened container, a wrong digest', () => {
    fc.assert(
      fc.property(blobArb, fc.nat(), ({ data, blockSize, container }, raw) => {
        const { off, n } = blockSpan(data.length, blockSize, 0);
        if (n < 2) return;
        const a = off * 8 + (raw % (n * 8));
        const b = off * 8 + ((raw + 9) % (n * 8));
        if (a === b) return;
        const cases = [flip(container, a, b), container.subarray(0, container.length - 1), Buffer.concat([container, Buffer.from([0])])];
        for (const c of cases) {
          const r = readBlobData(c);
          expect(r).toEqual(decodeBlob(c));
          expect(r.ok).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
    // The digest stated in the header is what the data must hash to.
    const c = encodeBlob(Buffer.from('hello'), 4096, createHash('sha256').update('other').digest());
    expect(readBlobData(c).ok).toBe(false);
    expect(readBlobData(c)).toEqual(decodeBlob(c));
  });
});

describe('stated container size', () => {
  it('is the container length, read from its header alone (either copy), and null without a readable header', () => {
    fc.assert(
      fc.property(blobArb, fc.nat(), ({ container }, bit) => {
        expect(statedContainerSize(container)).toBe(container.length);
        expect(statedContainerSize(container.subarray(0, BLOB_HEADER_SIZE))).toBe(container.length);
        const flipped = new Uint8Array(container.subarray(0, BLOB_HEADER_SIZE));
        flipped[(bit >>> 3) % BLOB_HEADER_SIZE]! ^= 1 << (bit & 7);
        expect(statedContainerSize(flipped)).toBe(container.length);
        expect(statedContainerSize(container.subarray(0, 8))).toBeNull();
      }),
    );
    expect(statedContainerSize(new Uint8Array(BLOB_HEADER_SIZE))).toBeNull();
  });
});

describe('decoding into a view', () => {
  /** What a decode reports, its data as plain bytes. */
  const shape = (r: DecodeResult): unknown => ({ ...r, data: r.data && [...r.data], repaired: r.repaired && [...r.repaired] });

  it('reports exactly what decodeBlob reports, clean, with one flipped bit, with two, or cut short', () => {
    fc.assert(
      fc.property(blobArb, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 3 }), ({ container }, r1, r2, kind) => {
        const c = new Uint8Array(container);
        if (kind >= 1) c[BLOB_HEADER_SIZE + (r1 % (c.length - BLOB_HEADER_SIZE))]! ^= 1 << (r2 % 8);
        if (kind === 2) c[BLOB_HEADER_SIZE + (r2 % (c.length - BLOB_HEADER_SIZE))]! ^= 1 << (r1 % 8);
        const input = kind === 3 ? c.subarray(0, c.length - 1 - (r1 % 16)) : c;
        const copy = new Uint8Array(input);
        expect(shape(decodeBlobView(input))).toEqual(shape(decodeBlob(copy)));
      }),
    );
  });

  it('hands back one clean block as a view into the container, and copies otherwise', () => {
    const one = encodeBlob(randomBytes(3000));
    const view = decodeBlobView(one);
    expect(view.ok && view.data!.buffer === one.buffer && view.data!.byteOffset === BLOB_HEADER_SIZE).toBe(true);
    expect(decodeBlob(one).data!.buffer).not.toBe(one.buffer);
    const two = encodeBlob(randomBytes(5000));
    expect(decodeBlobView(two).data!.buffer).not.toBe(two.buffer);
    expect([...decodeBlobView(encodeBlob(new Uint8Array(0))).data!]).toEqual([]);
  });

  it('verify catches a one-block container whose data is not what its header names', () => {
    const a = encodeBlob(new TextEncoder().encode('one message'));
    const b = encodeBlob(new TextEncoder().encode('another one'));
    // Same length, valid check bytes, other data: only the SHA-256 can tell.
    const swapped = new Uint8Array(a);
    swapped.set(b.subarray(BLOB_HEADER_SIZE), BLOB_HEADER_SIZE);
    for (const r of [verifyBlob(swapped), decodeBlob(swapped), decodeBlobView(swapped)]) {
      expect(r.ok).toBe(false);
      expect(r.damage).toEqual([{ block: -2, reason: 'SHA-256 of the data does not match the header' }]);
    }
  });
});

describe('multi-bit damage', () => {
  it('reports two flipped bits in one block as damage to that block, never as a repair', () => {
    fc.assert(
      fc.property(blobArb, fc.nat(), fc.nat(), fc.nat(), ({ blockSize, data, container, blocks }, bRaw, r1, r2) => {
        const block = bRaw % blocks;
        const { off, n } = blockSpan(data.length, blockSize, block);
        const size = (n + CHECK) * 8;
        const a = r1 % size;
        const b = (a + 1 + (r2 % (size - 1))) % size;
        const r = decodeBlob(flip(container, off * 8 + a, off * 8 + b));
        expectRejected(r);
        expect(r.corrections).toEqual([]);
        expect(r.damage.map((d) => d.block)).toEqual([block]);
      }),
      { numRuns: 500 },
    );
  });

  it('never accepts three to eight flipped bits in one block', () => {
    fc.assert(
      fc.property(blobArb, fc.nat(), fc.uniqueArray(fc.nat(), { minLength: 3, maxLength: 8 }), ({ blockSize, data, container, blocks }, bRaw, raws) => {
        const block = bRaw % blocks;
        const { off, n } = blockSpan(data.length, blockSize, block);
        const size = (n + CHECK) * 8;
        const bits = [...new Set(raws.map((x) => x % size))];
        fc.pre(bits.length >= 3);
        const r = decodeBlob(flip(container, ...bits.map((x) => off * 8 + x)));
        // Whatever the block code concludes, the SHA-256 stands between damage and ok=true.
        expectRejected(r);
      }),
      { numRuns: 300 },
    );
  });

  it('rebuilds a header copy with up to three flipped bits from the other copy', () => {
    fc.assert(
      fc.property(blobArb, fc.boolean(), fc.uniqueArray(fc.integer({ min: 0, max: 447 }), { minLength: 2, maxLength: 3 }), ({ data, container }, second, bits) => {
        const base = second ? 448 : 0;
        const r = decodeBlob(flip(container, ...bits.map((b) => base + b)));
        expect(r.ok).toBe(true);
        expect(equal(r.data, data)).toBe(true);
        expect(r.corrections.map((c) => c.bit).sort((x, y) => x - y)).toEqual(bits.map((b) => base + b).sort((x, y) => x - y));
        expect(r.corrections.every((c) => c.area === 'header' && c.block === -1)).toBe(true);
        expect(equal(r.repaired, container)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('gives up when both header copies have two or three flipped bits', () => {
    fc.assert(
      fc.property(
        blobArb,
        fc.uniqueArray(fc.integer({ min: 0, max: 447 }), { minLength: 2, maxLength: 3 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 447 }), { minLength: 2, maxLength: 3 }),
        ({ container }, a, b) => {
          const r = decodeBlob(flip(container, ...a, ...b.map((x) => 448 + x)));
          expectRejected(r);
          expect(r.damage.map((d) => d.block)).toEqual([-1]);
          expect(r.sha256).toBe('');
          expect(readHeader(flip(container, ...a, ...b.map((x) => 448 + x)))).toBeNull();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never returns wrong bytes whatever is overwritten', () => {
    fc.assert(
      fc.property(blobArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }), ({ data, container }, writes) => {
        const damaged = container.slice();
        for (const [at, value] of writes) damaged[at % damaged.length] = value;
        const r = decodeBlob(damaged);
        expect(!r.ok || equal(r.data, data)).toBe(true);
        if (!r.ok) expectRejected(r);
        const v = verifyBlob(damaged);
        expect({ ...v, data: r.data }).toEqual(r);
      }),
      { numRuns: 300 },
    );
  });
});

describe('malformed containers', () => {
  const data = new Uint8Array(randomBytes(3000));
  const c = encodeBlob(data, 1024);

  it('rejects an empty container', () => {
    const r = decodeBlob(new Uint8Array(0));
    expectRejected(r);
    expect(r.damage).toEqual([{ block: -1, reason: expect.stringMatching(/empty/) }]);
    expect(readHeader(new Uint8Array(0))).toBeNull();
  });

  it('rejects every truncation', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: c.length - 1 }), (len) => {
        const r = decodeBlob(c.subarray(0, len));
        expectRejected(r);
        if (len >= BLOB_HEADER_SIZE) expect(r.damage.at(-1)?.reason).toMatch(/truncated/);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every truncation of a zero-length blob', () => {
    const empty = encodeBlob(new Uint8Array(0));
    for (let len = 0; len < empty.length; len++) expectRejected(decodeBlob(empty.subarray(0, len)));
  });

  it('rejects trailing bytes', () => {
    const longer = new Uint8Array(c.length + 3);
    longer.set(c);
    const r = decodeBlob(longer);
    expectRejected(r);
    expect(r.damage[0]?.reason).toMatch(/unexpected bytes/);
  });

  it('rejects garbage without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000, size: 'max' }), (bytes) => {
        expectRejected(decodeBlob(bytes));
        expectRejected(verifyBlob(bytes));
        expect(readHeader(bytes)).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it('rejects garbage that starts with a valid-looking magic', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 200, maxLength: 4000, size: 'max' }), (bytes) => {
        const b = bytes.slice();
        b.set(c.subarray(0, 6), 0);
        expectRejected(decodeBlob(b));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a foreign file by its magic', () => {
    const r = decodeBlob(new TextEncoder().encode('From: someone@example.org\r\n'.repeat(10)));
    expectRejected(r);
    expect(r.damage[0]?.reason).toMatch(/magic/);
  });

  it('rejects a well-formed header of another version', () => {
    const header = encodeHeader({ version: 2, blockShift: 10, length: data.length, sha256: new Uint8Array(32) });
    const other = c.slice();
    other.set(header, 0);
    const r = decodeBlob(other);
    expectRejected(r);
    expect(r.damage[0]?.reason).toMatch(/unsupported format version 2/);
    expect(readHeader(other)).toBeNull();
  });

  it('names the version when a newer layout fails the version-1 check', () => {
    // Version byte 1 -> 2 is two flipped bits in each copy: not repairable, so reported as a version.
    const r = decodeBlob(flip(c, 4 * 8, 4 * 8 + 1, 448 + 4 * 8, 448 + 4 * 8 + 1));
    expectRejected(r);
    expect(r.damage[0]?.reason).toMatch(/unsupported format version 2/);
  });

  it('rejects data that does not match the recorded SHA-256', () => {
    const other = encodeBlob(new Uint8Array(randomBytes(3000)), 1024);
    const mixed = other.slice();
    mixed.set(c.subarray(0, BLOB_HEADER_SIZE), 0);
    const r = decodeBlob(mixed);
    expectRejected(r);
    expect(r.damage).toEqual([{ block: -2, reason: expect.stringMatching(/SHA-256/) }]);
    expect(r.sha256).toBe(readHeader(c)?.sha256);
  });

  it('rejects blocks in the wrong order', () => {
    const swapped = c.slice();
    const stride = 1024 + CHECK;
    swapped.set(c.subarray(BLOB_HEADER_SIZE, BLOB_HEADER_SIZE + stride), BLOB_HEADER_SIZE + stride);
    swapped.set(c.subarray(BLOB_HEADER_SIZE + stride, BLOB_HEADER_SIZE + 2 * stride), BLOB_HEADER_SIZE);
    expect(decodeBlob(swapped).damage.map((d) => d.block)).toEqual([-2]);
  });

  it('rejects a header that claims an invalid block size or a huge length', () => {
    for (const blockShift of [8, 17]) {
      const bad = c.slice();
      bad.set(encodeHeader({ version: 1, blockShift, length: 10, sha256: new Uint8Array(32) }), 0);
      expect(decodeBlob(bad).damage[0]?.reason).toMatch(/block size/);
    }
    const huge = c.slice();
    huge.set(encodeHeader({ version: 1, blockShift: 10, length: 2 ** 53 - 1, sha256: new Uint8Array(32) }), 0);
    const r = decodeBlob(huge);
    expectRejected(r);
    expect(r.damage[0]?.reason).toMatch(/truncated/);
  });

  it('rejects input that is not a byte array', () => {
    expectRejected(decodeBlob('PSTB' as unknown as Uint8Array));
    expect(readHeader(null as unknown as Uint8Array)).toBeNull();
  });
});

/**
 * Facts about the CRC-32 generator (IEEE 802.3, the one zlib uses) that the
 * guarantees in docs/blob-format.md rest on. An error pattern escapes the CRC
 * exactly when it is a multiple of the generator, so these tests look for the
 * shortest multiples of weight 2, 3 and 4 (the lowest term fixed at x^0).
 */
describe('CRC-32 facts the format relies on', () => {
  const GENERATOR = 0x04c11db7;
  /** x^k mod G for k < limit. */
  function powers(limit: number): Uint32Array {
    const out = new Uint32Array(limit);
    let r = 1;
    for (let k = 0; k < limit; k++) {
      out[k] = r;
      const top = r & 0x80000000;
      r = (r << 1) >>> 0;
      if (top) r = (r ^ GENERATOR) >>> 0;
    }
    return out;
  }
  const BIGGEST_BLOCK_BITS = (65536 + CHECK) * 8;

  it('is the IEEE CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('catches every 2-bit error in a 64 KiB block: no 1 + x^k for k below the block length', () => {
    const pw = powers(BIGGEST_BLOCK_BITS);
    expect(pw.indexOf(1, 1)).toBe(-1);
  });

  it('catches every 3-bit error up to 91,607 data bits (8 KiB blocks) but not in 16 KiB blocks', () => {
    const limit = (16384 + CHECK) * 8;
    const pw = powers(limit);
    const seen = new Map<number, number>();
    let shortest = -1;
    for (let b = 1; b < limit && shortest < 0; b++) {
      const a = seen.get((pw[b]! ^ 1) >>> 0);
      if (a !== undefined) shortest = b;
      seen.set(pw[b]!, b);
    }
    expect(shortest).toBe(91607 + 32);
    expect(shortest).toBeGreaterThan((8192 + CHECK) * 8);
  });

  it('catches every 4-bit error up to 2,974 data bits, which covers a header copy', () => {
    const limit = 3200;
    const pw = powers(limit);
    const onePlus = new Map<number, number>();
    let shortest = -1;
    for (let c = 2; c < limit && shortest < 0; c++) {
      onePlus.set((pw[c - 2]! ^ 1) >>> 0, c - 2);
      for (let b = 2; b < c; b++) {
        const a = onePlus.get((pw[b]! ^ pw[c]!) >>> 0);
        if (a !== undefined && a > 0 && a < b) {
          shortest = c;
          break;
        }
      }
    }
    expect(shortest).toBe(2974 + 32);
    expect(shortest).toBeGreaterThan(56 * 8);
  });
});

describe('Buffer inputs (what the file store reads from disk)', () => {
  it('repairs without mutating the input, and the repaired copy equals the original container', () => {
    const data = Buffer.alloc(20_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    const container = Buffer.from(encodeBlob(data));
    const damaged = Buffer.from(container);
    damaged[BLOB_HEADER_SIZE + 5000]! ^= 0x08;
    const before = Buffer.from(damaged);
    const r = decodeBlob(damaged);
    expect(r.ok).toBe(true);
    expect(damaged.equals(before)).toBe(true);
    expect(Buffer.from(r.repaired!).equals(container)).toBe(true);
    expect(Buffer.from(r.data!).equals(data)).toBe(true);
  });
});
