import { randomBytes, randomUUID } from 'node:crypto';

const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford's base32: no I, L, O, U

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
  const r = randomBytes(8);
  let s = '';
  for (const b of r) s += B32[b % B32.length];
  return t + s;
}

export function newId(): string {
  return randomUUID();
}

/** A random token for leases and sessions, hex. */
export function newToken(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}
