/**
 * One-time enrollment codes and TOTP (RFC 6238): the parts of the second
 * factor that are plain arithmetic, shared by the console and the CLI.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../../store/types.js';

/** Roles that must prove a second factor after their password. */
export const ADMIN_ROLES: readonly Role[] = ['mailadmin', 'auditor', 'pkiofficer'];
export const isAdmin = (roles: readonly Role[]): boolean => roles.some((r) => ADMIN_ROLES.includes(r));

/** How long a printed enrollment code may be used. */
export const ENROLLMENT_CODE_TTL_MS = 15 * 60_000;

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/** A new code: 100 random bits as 20 base32 letters in groups of four, easy to read out and type. */
export function newEnrollmentCode(): string {
  return base32(randomBytes(13)).slice(0, 20).match(/.{4}/g)!.join('-');
}

/** The stored form of a code as typed: dashes, spaces and case do not matter. */
export function enrollmentCodeDigest(typed: string): string {
  const norm = typed.replace(/[\s-]/g, '').toUpperCase().slice(0, 64);
  return createHash('sha256').update(norm).digest('hex');
}

export const TOTP_STEP_MS = 30_000;
export const TOTP_DIGITS = 6;

/** The code of one time step (RFC 4226 HOTP with the step as counter; SHA-1, 6 digits). */
export function totpCode(secret: Uint8Array, step: number): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(msg).digest();
  const off = mac[mac.length - 1]! & 0x0f;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 10 ** TOTP_DIGITS;
  return String(n).padStart(TOTP_DIGITS, '0');
}

/**
 * The time step whose code `typed` is, looking one step either side of now
 * (clock drift), or null. Every candidate is compared, in constant time, so
 * the answer's timing says nothing about which one matched.
 */
export function matchTotp(secret: Uint8Array, typed: string, now: number): number | null {
  const code = typed.replace(/\s/g, '');
  if (!/^\d{6}$/.test(code)) return null;
  const step = Math.floor(now / TOTP_STEP_MS);
  let found: number | null = null;
  for (const s of [step - 1, step, step + 1]) {
    if (s < 0) continue;
    if (timingSafeEqual(Buffer.from(totpCode(secret, s)), Buffer.from(code)) && found === null) found = s;
  }
  return found;
}

/** An otpauth:// URI for authenticator apps (secret in base32, issuer postern). */
export function otpauthUri(address: string, secret: Uint8Array, issuer = 'postern'): string {
  const label = encodeURIComponent(`${issuer}:${address}`);
  return `otpauth://totp/${label}?secret=${base32(secret)}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_STEP_MS / 1000}`;
}
