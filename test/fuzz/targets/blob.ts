/**
 * The blob container reader (src/crypto/blockcodec): random and damaged
 * containers. The input's first byte picks the mode: 0 reads the rest as a
 * container as is; 1 encodes the rest and damages the container as bytes 1..5
 * say (bit flips, truncation, header fields, appended or moved bytes).
 * Promises checked: never an untyped error (the guard's "internal error"
 * counts as one); ok only with the right bytes (mode 1: the original data;
 * mode 0: data whose encoding is exactly the container, once repaired);
 * decode and verify agree; a repaired container reads back clean; one flipped
 * bit is always repaired.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { decodeBlob, encodeBlob, readHeader, verifyBlob, type DecodeResult } from '../../../src/crypto/blockcodec.js';
import { mutatedSeeds } from '../harness/mutate.js';
import { mailSeeds } from '../harness/seeds.js';
import { check, prng, sameBytes, type FuzzTarget } from '../harness/types.js';

const BLOCK_SIZES = [512, 1024, 4096, 65536];

function internal(r: DecodeResult): string | undefined {
  return r.damage.find((d) => d.reason.startsWith('internal error'))?.reason;
}

/** Damages a copy of `c` as the parameters say; returns it and the number of bits flipped when that is all it did. */
function damage(c: Uint8Array, kind: number, count: number, rnd: () => number): { out: Uint8Array; flips: number | null } {
  const out = new Uint8Array(c);
  const at = (n: number): number => Math.floor(rnd() * n);
  switch (kind % 6) {
    case 0: {
      // Distinct bits anywhere.
      const bits = new Set<number>();
      for (let i = 0; i < count % 12; i++) bits.add(at(out.length * 8));
      for (const b of bits) out[b >>> 3]! ^= 1 << (b & 7);
      return { out, flips: bits.size };
    }
    case 1:
      return { out: out.subarray(0, at(out.length + 1)), flips: null };
    case 2: {
      // A header field rewritten in both copies (version, block size, length, digest byte).
      const field = [4, 5, 6, 8, 9, 12, 16][count % 7]!;
      const v = at(256);
      out[field] = v;
      out[field + 56] = v;
      return { out, flips: null };
    }
    case 3:
      return { out: Uint8Array.from([...out, ...Array.from({ length: 1 + (count % 64) }, () => at(256))]), flips: null };
    case 4: {
      // A run of bytes moved elsewhere (a misplaced block).
      const len = 1 + at(Math.min(4096, out.length));
      const from = at(out.length - len + 1);
      const to = at(out.length - len + 1);
      out.copyWithin(to, from, from + len);
      return { out, flips: null };
    }
    default: {
      // One bit in each of several places, one per 512-byte stretch at most.
      const n = 1 + (count % 5);
      for (let i = 0; i < n; i++) {
        const b = at(out.length * 8);
        out[b >>> 3]! ^= 1 << (b & 7);
      }
      return { out, flips: null };
    }
  }
}

function read(container: Uint8Array): DecodeResult {
  const d = decodeBlob(container);
  const v = verifyBlob(container);
  check(internal(d) === undefined && internal(v) === undefined, () => `untyped error escaped: ${internal(d) ?? internal(v)}`);
  check(d.ok === v.ok && d.damage.length === v.damage.length && d.corrections.length === v.corrections.length, 'decodeBlob and verifyBlob disagree');
  check(v.data === null, 'verifyBlob returned data');
  if (d.ok) {
    check(d.data !== null, 'ok without data');
    const h = readHeader(container);
    check(h !== null && h.length === d.data.length, 'ok data length differs from the header');
    check(createHash('sha256').update(d.data).digest('hex') === d.sha256, 'ok data does not match its SHA-256');
    if (d.corrections.length > 0) {
      check(d.repaired !== null, 'corrections without a repaired container');
      const again = decodeBlob(d.repaired);
      check(again.ok && again.corrections.length === 0 && sameBytes(again.data!, d.data), 'the repaired container does not read back clean');
    } else check(d.repaired === null, 'a repaired container without corrections');
    // An accepted container is exactly what the encoder writes for its data.
    check(sameBytes(encodeBlob(d.data, h.blockSize), d.repaired ?? container), 'an accepted container is not the canonical encoding of its data');
  } else check(d.data === null && d.damage.length > 0, 'a failed read returned data or no reason');
  return d;
}

function run(input: Uint8Array): 'ok' | 'rejected' {
  if (input.length === 0 || input[0]! % 2 === 0) return read(input.subarray(1)).ok ? 'ok' : 'rejected';
  const [, bs = 0, kind = 0, count = 0, s1 = 0, s2 = 0] = input;
  const data = input.subarray(Math.min(6, input.length));
  const container = encodeBlob(data, BLOCK_SIZES[bs % BLOCK_SIZES.length]);
  const { out, flips } = damage(container, kind, count, prng((s1 << 8) | s2 | 1));
  const r = read(out);
  if (r.ok) check(sameBytes(r.data!, data), 'a damaged container decoded to different bytes as good');
  if (flips === 0) check(r.ok && r.corrections.length === 0, 'an untouched container did not read clean');
  if (flips === 1) check(r.ok && r.corrections.length === 1, 'one flipped bit was not repaired');
  return r.ok ? 'ok' : 'rejected';
}

function seeds(): Uint8Array[] {
  const msgs = mailSeeds(16 * 1024).slice(0, 12);
  const out: Uint8Array[] = [];
  msgs.forEach((m, i) => {
    out.push(Buffer.concat([Buffer.from([1, i, i, i * 7, i, 3 * i]), m]));
    out.push(Buffer.concat([Buffer.from([0]), encodeBlob(m, BLOCK_SIZES[i % 3])]));
  });
  out.push(Buffer.from([0]), Buffer.from([1]), Buffer.concat([Buffer.from([0]), encodeBlob(new Uint8Array(0))]));
  return out;
}

export const blob: FuzzTarget = {
  name: 'blob',
  seeds,
  arbitrary: fc.oneof(
    { weight: 4, arbitrary: mutatedSeeds(seeds(), { maxBytes: 64 * 1024, maxRepeat: 64 }) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.uint8Array({ maxLength: 9000 }))
        .map(([a, b, c, d, e, data]) => Buffer.concat([Buffer.from([1, a, b, c, d, e]), data])),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((d) => Buffer.concat([Buffer.from([0]), d])) },
  ),
  run,
};
