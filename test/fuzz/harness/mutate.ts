/**
 * Mutators: fast-check arbitraries that start from real seeds and damage them
 * the way hostile peers and failing disks do. A mutation is plain data (so
 * fast-check can shrink it) applied in order to a copy of one seed.
 */
import fc from 'fast-check';

type Mutation =
  | { readonly k: 'flip'; readonly at: number; readonly bit: number }
  | { readonly k: 'byte'; readonly at: number; readonly v: number }
  | { readonly k: 'insert'; readonly at: number; readonly text: Uint8Array }
  | { readonly k: 'delete'; readonly at: number; readonly len: number }
  | { readonly k: 'dupLine'; readonly at: number; readonly times: number }
  | { readonly k: 'splice'; readonly at: number; readonly other: number; readonly from: number; readonly len: number }
  | { readonly k: 'truncate'; readonly at: number }
  | { readonly k: 'repeat'; readonly at: number; readonly text: Uint8Array; readonly times: number }
  | { readonly k: 'stretch'; readonly at: number; readonly times: number };

export interface MutatorOptions {
  /** Tokens that steer mutations into the interesting paths (line ends, boundaries, literal markers). */
  readonly dictionary?: readonly string[];
  /** Inputs are cut to this many bytes (default 256 KiB). */
  readonly maxBytes?: number;
  /** Most repetitions of a token, a byte or a line (default 5000): long lines, long runs, many small literals. */
  readonly maxRepeat?: number;
  /** Most mutations per input (default 6). */
  readonly maxMutations?: number;
}

const BASIC = ['\r\n', '\n', '\r', '\0', ' ', '\t', '\xff', '\xc3\xa9', '\xed\xa0\x80', '"', '\\', '(', ')', ':', ';', '=', '<', '>', '@', '{', '}'];

function mutation(seedCount: number, dictionary: readonly Uint8Array[], maxRepeat: number): fc.Arbitrary<Mutation> {
  const token = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...dictionary) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }) },
  );
  const at = fc.nat();
  // Mostly a few repetitions; now and then enough to expose work that grows faster than the input.
  const times = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 2, max: Math.min(64, maxRepeat) }) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: maxRepeat }) });
  return fc.oneof(
    fc.record({ k: fc.constant('flip' as const), at, bit: fc.nat(7) }),
    fc.record({ k: fc.constant('byte' as const), at, v: fc.nat(255) }),
    fc.record({ k: fc.constant('insert' as const), at, text: token }),
    fc.record({ k: fc.constant('delete' as const), at, len: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ k: fc.constant('dupLine' as const), at, times: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ k: fc.constant('splice' as const), at, other: fc.nat(Math.max(0, seedCount - 1)), from: fc.nat(), len: fc.integer({ min: 1, max: 4096 }) }),
    fc.record({ k: fc.constant('truncate' as const), at }),
    fc.record({ k: fc.constant('repeat' as const), at, text: token, times }),
    fc.record({ k: fc.constant('stretch' as const), at, times }),
  );
}

function lineAround(buf: Buffer, at: number): [number, number] {
  const start = at === 0 ? 0 : buf.lastIndexOf(0x0a, at - 1) + 1;
  const lf = buf.indexOf(0x0a, at);
  return [start, lf < 0 ? buf.length : lf + 1];
}

function apply(seed: Uint8Array, seeds: readonly Uint8Array[], ms: readonly Mutation[], maxBytes: number): Uint8Array {
  let buf = Buffer.from(seed.subarray(0, maxBytes));
  for (const m of ms) {
    const at = m.at % (buf.length + 1);
    switch (m.k) {
      case 'flip':
        if (buf.length > 0) buf[at % buf.length]! ^= 1 << m.bit;
        break;
      case 'byte':
        if (buf.length > 0) buf[at % buf.length] = m.v;
        break;
      case 'insert':
        buf = Buffer.concat([buf.subarray(0, at), m.text, buf.subarray(at)]);
        break;
      case 'delete':
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.len)]);
        break;
      case 'dupLine': {
        const [s, e] = lineAround(buf, at);
        const line = buf.subarray(s, e);
        const times = Math.min(m.times, Math.floor(maxBytes / Math.max(1, line.length)));
        buf = Buffer.concat([buf.subarray(0, e), ...Array<Buffer>(times).fill(line), buf.subarray(e)]);
        break;
      }
      case 'splice': {
        const other = seeds[m.other % seeds.length] ?? seed;
        const from = m.from % (other.length + 1);
        buf = Buffer.concat([buf.subarray(0, at), other.subarray(from, from + m.len), buf.subarray(at)]);
        break;
      }
      case 'truncate':
        buf = buf.subarray(0, at);
        break;
      case 'repeat': {
        const times = Math.min(m.times, Math.floor(maxBytes / m.text.length));
        buf = Buffer.concat([buf.subarray(0, at), ...Array<Uint8Array>(times).fill(m.text), buf.subarray(at)]);
        break;
      }
      case 'stretch': {
        // A long run of the byte already there: blanks inside a value, dashes, digits.
        if (buf.length === 0) break;
        const i = at % buf.length;
        const times = Math.min(m.times, maxBytes);
        buf = Buffer.concat([buf.subarray(0, i), Buffer.alloc(times, buf[i]!), buf.subarray(i)]);
        break;
      }
    }
    if (buf.length > maxBytes) buf = buf.subarray(0, maxBytes);
  }
  return buf;
}

/** Seeds with a few mutations each. */
export function mutatedSeeds(seeds: readonly Uint8Array[], options: MutatorOptions = {}): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) throw new Error('mutatedSeeds needs at least one seed');
  const maxBytes = options.maxBytes ?? 256 * 1024;
  const dictionary = [...BASIC, ...(options.dictionary ?? [])].map((t) => Uint8Array.from(Buffer.from(t, 'latin1')));
  const m = mutation(seeds.length, dictionary, options.maxRepeat ?? 5000);
  return fc
    .tuple(fc.nat(seeds.length - 1), fc.array(m, { minLength: 1, maxLength: options.maxMutations ?? 6 }))
    .map(([i, ms]) => apply(seeds[i]!, seeds, ms, maxBytes));
}

/** Dictionary tokens strung together: input shaped like the protocol without any seed. */
export function tokenSoup(tokens: readonly string[], maxTokens = 120): fc.Arbitrary<Uint8Array> {
  return fc
    .array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...tokens) }, { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: 'binary-ascii' }) }), { maxLength: maxTokens })
    .map((ts) => Buffer.from(ts.join(''), 'latin1'));
}

/** `open` n times, then `middle`, then `close` n times: deep nesting. */
export function nested(open: string, middle: string, close: string, maxDepth = 5000): fc.Arbitrary<Uint8Array> {
  return fc.integer({ min: 1, max: maxDepth }).map((n) => Buffer.from(open.repeat(n) + middle + close.repeat(n), 'latin1'));
}

/** Random bytes, for the paths no seed reaches. */
export const anyBytes = (maxLength = 2048): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });
