import { randomBytes, randomFillSync, randomUUID } from 'node:crypto';

const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford's base32: no I, L, O, U

/**
 * Small random draws come from a pool refilled by randomFillSync a few KiB at
 * a time: one call into the CSPRNG serves hundreds of ids instead of one call
 * (and one Buffer) per id, which showed per message on the event loop. The
 * bytes are the same CSPRNG output and each is handed out once; the pool is
 * module state, never exposed.
 */
const POOL_SIZE = 4096;
/** Larger draws bypass the pool (they are rare and would drain it). */
const MAX_POOLED = 256;
const pool = Buffer.alloc(POOL_SIZE);
let used = POOL_SIZE;

/** Runs `use` over `n` fresh random bytes (the view is only valid during the call). */
function withRandom<T>(n: number, use: (bytes: Buffer) => T): T {
  if (!Number.isInteger(n) || n < 0 || n > MAX_POOLED) return use(randomBytes(n));
  if (used + n > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const bytes = pool.subarray(used, used + n);
  used += n;
  return use(bytes);
}

/**
 * Queue id: 10 characters of milliseconds (sortable, like Postfix's long queue
 * ids) followed by 8 random characters. Unique without coordination between nodes.
 */
export function newQueueId(now: number = Date.now()): string {
  let t = '';
  let v = now;
  for (let i = 0; i < 10; i++) {
    t = B32[v % B32.length] + t;
    v = Math.floor(v / B32.length);
  }
  return withRandom(8, (r) => {
    let s = t;
    for (const b of r) s += B32[b % B32.length];
    return s;
  });
}

export function newId(): string {
  return randomUUID();
}

/** A random token for leases and sessions, hex. */
export function newToken(bytes = 16): string {
  return withRandom(bytes, (r) => r.toString('hex'));
}
