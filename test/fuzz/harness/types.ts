/**
 * What a fuzz target is and how it reports. A target feeds one input to the
 * real code and classifies what happened: 'ok' (accepted), 'rejected' (a
 * documented refusal: a typed error, a verdict, a defect list). Anything else
 * is a finding: an exception it did not expect, or an InvariantBreak it threw
 * because the result contradicts what the code promises.
 */
import type fc from 'fast-check';

export type Outcome = 'ok' | 'rejected';

export interface FuzzTarget {
  readonly name: string;
  /** Real inputs to start from; each is run as is before any mutation. */
  seeds(): Uint8Array[];
  /** Inputs to try: mutations of the seeds and structural generators. */
  readonly arbitrary: fc.Arbitrary<Uint8Array>;
  /** Runs the real code on `input`; throws on a finding. Must be deterministic in `input`. */
  run(input: Uint8Array): Outcome;
  /** How many times run() puts the input through the code (whole, then split): scales the time bound. Default 1. */
  readonly passes?: number;
}

/** The code returned something it promises never to return. */
export class InvariantBreak extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantBreak';
  }
}

export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantBreak(typeof message === 'string' ? message : message());
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** A small deterministic PRNG (xorshift32) for choices that must follow from the input alone. */
export function prng(seed: number): () => number {
  let x = seed | 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

/** FNV-1a over the bytes: a seed for prng() that depends on the whole input. */
export function inputSeed(input: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) h = Math.imul(h ^ input[i]!, 0x01000193);
  return h >>> 0;
}
