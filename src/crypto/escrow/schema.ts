/**
 * The JSON forms of escrow records and sealed shares, and their zod schemas:
 * everything read back from files is untrusted input and is parsed here,
 * with sizes capped, before any byte of it reaches a cipher.
 */
import { z } from 'zod';

export const ESCROW_VERSION = 1;
/** At most this many key-recovery officers per record (the CLI allows 16). */
export const MAX_OFFICERS = 64;

const b64 = (max: number) =>
  z
    .string()
    .max(Math.ceil(max / 3) * 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'not a SHA-256 fingerprint (64 lowercase hex digits)');

export const shareEntrySchema = z.object({
  address: z.string().min(3).max(320),
  /** SHA-256 of the officer's certificate DER, lowercase hex. */
  certFingerprint: hex64,
  /** The officer's certificate (DER, base64), so a share opens without the store. */
  certificate: b64(64 * 1024),
  /** CMS AuthEnvelopedData (DER, base64) holding this officer's share. */
  envelope: b64(256 * 1024),
});

export const escrowRecordSchema = z.object({
  v: z.literal(ESCROW_VERSION),
  /** SHA-256 of the escrowed key's certificate DER; bound into the ciphertext as AAD. */
  certFingerprint: hex64,
  threshold: z.number().int().min(2).max(MAX_OFFICERS),
  nonce: b64(12),
  ciphertext: b64(64 * 1024),
  tag: b64(16),
  shares: z.array(shareEntrySchema).min(2).max(MAX_OFFICERS),
});

export type ShareEntry = z.infer<typeof shareEntrySchema>;
export type EscrowRecord = z.infer<typeof escrowRecordSchema>;

/** What a share envelope contains: readable as JSON after `openssl cms -decrypt`. */
export const shareContentSchema = z.object({
  postern: z.literal('escrow-share'),
  v: z.literal(ESCROW_VERSION),
  certFingerprint: hex64,
  share: b64(1024),
});

/** A share sealed to a recovery request's public key (ECIES P-256, HKDF-SHA256, AES-256-GCM). */
export const sealedShareSchema = z.object({
  alg: z.literal('ecies-p256-hkdf-sha256-aes256gcm'),
  /** The ephemeral public key, an uncompressed P-256 point (65 bytes), base64. */
  epk: b64(65),
  nonce: b64(12),
  ciphertext: b64(1024),
  tag: b64(16),
});
export type SealedShare = z.infer<typeof sealedShareSchema>;

/** A private key kept under a passphrase: scrypt, then AES-256-GCM over its PKCS#8 DER. */
export const protectedKeySchema = z.object({
  kdf: z.literal('scrypt'),
  logN: z.number().int().min(14).max(20),
  r: z.number().int().min(8).max(16),
  p: z.number().int().min(1).max(4),
  salt: b64(16),
  nonce: b64(12),
  ciphertext: b64(16 * 1024),
  tag: b64(16),
});
export type ProtectedKey = z.infer<typeof protectedKeySchema>;

/** Parses untrusted JSON text (or an already parsed value) with a schema; errors name the field. */
export function parseWith<T>(schema: z.ZodType<T>, input: unknown, what: string, fail: (msg: string) => Error): T {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input) as unknown;
    } catch {
      throw fail(`${what}: not JSON`);
    }
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw fail(`${what}: ${issue ? `${issue.path.join('.') || '(top)'}: ${issue.message}` : 'invalid'}`);
  }
  return r.data;
}
