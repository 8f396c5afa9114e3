/**
 * Password hashing with scrypt (memory-hard, in node:crypto, no native addon),
 * stored PHC-style: $scrypt$ln=15,r=8,p=1$<salt>$<hash> with unpadded base64.
 * The parameters live in the string, so they can be raised later:
 * needsRehash() tells the caller to re-hash on the next successful login.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const LN = 15; // N = 2^15
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

// Bounds for parameters read back from a stored string: a damaged or hostile
// record must not make verification take minutes or gigabytes.
const MAX_LN = 20;
const MAX_R = 32;
const MAX_P = 16;

interface Params {
  ln: number;
  r: number;
  p: number;
}

interface Parsed extends Params {
  salt: Buffer;
  hash: Buffer;
}

function derive(plain: string, salt: Buffer, { ln, r, p }: Params, length: number): Promise<Buffer> {
  const N = 2 ** ln;
  // scrypt needs 128 * N * r bytes; leave headroom above Node's 32 MiB default.
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r * 2 };
  // NFC so the same password typed on two systems is the same bytes (RFC 8265).
  const bytes = Buffer.from(plain.normalize('NFC'), 'utf8');
  return new Promise((resolve, reject) => {
    scrypt(bytes, salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

function fromB64(s: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+$/.test(s)) return null;
  return Buffer.from(s, 'base64');
}

function parse(encoded: string): Parsed | null {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([^$]+)\$([^$]+)$/.exec(encoded);
  if (!m) return null;
  const ln = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  if (ln < 1 || ln > MAX_LN || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return null;
  const salt = fromB64(m[4] ?? '');
  const hash = fromB64(m[5] ?? '');
  if (!salt || !hash || salt.length === 0 || salt.length > 64 || hash.length < 16 || hash.length > 64) return null;
  return { ln, r, p, salt, hash };
}

export async function hashPassword(plain: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(plain, salt, { ln: LN, r: R, p: P }, HASH_BYTES);
  return `$scrypt$ln=${LN},r=${R},p=${P}$${b64(salt)}$${b64(hash)}`;
}

/** False for a wrong password and for anything that is not a valid encoding. */
export async function verifyPassword(plain: string, encoded: string): Promise<boolean> {
  const parsed = parse(encoded);
  if (!parsed) return false;
  const actual = await derive(plain, parsed.salt, parsed, parsed.hash.length);
  return timingSafeEqual(actual, parsed.hash);
}

/** True when the stored hash uses weaker parameters than today's, or is not ours. */
export function needsRehash(encoded: string): boolean {
  const parsed = parse(encoded);
  if (!parsed) return true;
  return parsed.ln < LN || parsed.r !== R || parsed.p < P || parsed.salt.length < SALT_BYTES || parsed.hash.length < HASH_BYTES;
}

const DUMMY_SALT = randomBytes(SALT_BYTES);
const DUMMY_HASH = randomBytes(HASH_BYTES);

/**
 * Costs what verifyPassword costs for a current hash and always fails. Call it
 * for unknown users so a login's timing does not reveal which accounts exist.
 */
export async function dummyVerify(plain = ''): Promise<false> {
  const actual = await derive(plain, DUMMY_SALT, { ln: LN, r: R, p: P }, HASH_BYTES);
  timingSafeEqual(actual, DUMMY_HASH);
  return false;
}
