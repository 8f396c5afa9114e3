/**
 * Row mapping and input checks for the second-factor role, shared by the
 * SQLite and PostgreSQL backends so both hand back the same shapes.
 */
import type { WebAuthnCredential } from '../types.js';

export interface CredentialRow {
  id: string;
  address: string;
  public_key: Uint8Array;
  counter: number | string;
  transports: string;
  created_at: number | string;
  last_used_at: number | string | null;
}

export interface TotpRow {
  secret: Uint8Array;
  last_step: number | string | null;
  created_at: number | string;
}

const ID_RE = /^[A-Za-z0-9_-]{1,1366}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const TRANSPORT_RE = /^[a-z-]{1,32}$/;

export function toCredential(r: CredentialRow): WebAuthnCredential {
  let transports: string[] = [];
  try {
    const t: unknown = JSON.parse(r.transports);
    if (Array.isArray(t)) transports = t.filter((x): x is string => typeof x === 'string');
  } catch {
    // A damaged list only loses the browser's hint, never the key.
  }
  return {
    id: r.id,
    address: r.address,
    publicKey: new Uint8Array(r.public_key),
    counter: Number(r.counter),
    transports,
    createdAt: Number(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  };
}

export function toTotp(r: TotpRow): { secret: Uint8Array; lastStep: number | null; createdAt: number } {
  return { secret: new Uint8Array(r.secret), lastStep: r.last_step === null ? null : Number(r.last_step), createdAt: Number(r.created_at) };
}

/** Addresses compare case-insensitively. Bad input throws RangeError and changes nothing. */
export function normaliseAddress(address: string): string {
  const a = address.trim().toLowerCase();
  if (!a.includes('@') || a.length > 320) throw new RangeError(`factor address ${JSON.stringify(address.slice(0, 64))} is not an address`);
  return a;
}

export function checkCredential(c: { id: string; publicKey: Uint8Array; counter: number; transports: readonly string[] }): string {
  if (!ID_RE.test(c.id)) throw new RangeError('credential id must be base64url (1 to 1366 characters)');
  if (c.publicKey.length === 0 || c.publicKey.length > 2048) throw new RangeError('credential public key must be 1 to 2048 bytes');
  checkCounter(c.counter);
  if (c.transports.length > 8 || !c.transports.every((t) => TRANSPORT_RE.test(t))) throw new RangeError('credential transports must be at most 8 short lower-case names');
  return JSON.stringify(c.transports);
}

export function checkCounter(counter: number): void {
  if (!Number.isSafeInteger(counter) || counter < 0 || counter > 0xffffffff) throw new RangeError('credential counter must be an integer 0 to 2^32-1');
}

export function checkSecret(secret: Uint8Array): void {
  if (secret.length < 16 || secret.length > 64) throw new RangeError('TOTP secret must be 16 to 64 bytes');
}

export function checkStep(step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError('TOTP step must be a non-negative integer');
}

export function checkCodeHash(h: string): string {
  const x = h.toLowerCase();
  if (!SHA256_RE.test(x)) throw new RangeError('enrollment code digest must be 64 hex digits (SHA-256)');
  return x;
}
