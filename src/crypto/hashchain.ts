/**
 * The audit log's hash chain: each record carries the SHA-256 of the
 * previous record's hash and its own fields, so an edit, a deletion or a
 * reordering breaks the chain at the first record touched. Checkpoints sign
 * (seq, hash, at) with an Ed25519 key kept outside the server, so whoever can
 * write the database cannot rebuild the chain before the last checkpoint.
 * Pure: no I/O.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** The hash the first record chains from. */
export const GENESIS_HASH = '0'.repeat(64);

const DOMAIN = 'postern-audit-v1\n';
const CHECKPOINT_DOMAIN = 'postern-audit-checkpoint-v1\n';
const HASH_RE = /^[0-9a-f]{64}$/;

export type AuditData = Readonly<Record<string, unknown>>;

/** The fields a record's hash covers, besides the previous hash. */
export interface AuditFields {
  readonly seq: number;
  /** Unix milliseconds. */
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly data: AuditData;
}

export interface AuditRecord extends AuditFields {
  readonly prevHash: string;
  readonly hash: string;
}

export type ChainResult = { ok: true } | { ok: false; seq: number; reason: string };

/**
 * JSON with object keys sorted at every level, so one record always encodes
 * to the same bytes whatever order its keys were written in. Values JSON
 * cannot hold (undefined, functions) are dropped as JSON.stringify drops them.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) out[k] = sortKeys(o[k]);
    return out;
  }
  return v;
}

/**
 * SHA-256 (hex) over a domain-separated, unambiguous encoding of the
 * previous hash and the record: one canonical JSON array, UTF-8.
 */
export function recordHash(prevHash: string, r: AuditFields): string {
  const body = canonicalJson([prevHash, r.seq, r.at, r.actor, r.action, r.subject, r.data]);
  return createHash('sha256').update(DOMAIN, 'utf8').update(body, 'utf8').digest('hex');
}

/** Builds the record that follows `prev` (null: the first record). */
export function nextRecord(prev: { seq: number; hash: string } | null, f: Omit<AuditFields, 'seq'>): AuditRecord {
  const seq = prev ? prev.seq + 1 : 1;
  const prevHash = prev ? prev.hash : GENESIS_HASH;
  const fields: AuditFields = { seq, at: f.at, actor: f.actor, action: f.action, subject: f.subject, data: f.data };
  return { ...fields, prevHash, hash: recordHash(prevHash, fields) };
}

/**
 * Checks records in a stream; feed them in stored order. Names the first bad
 * record: an edit (hash mismatch), a deletion (seq gap or broken link) or a
 * reordering (seq going backwards). Sequence numbers start at 1.
 */
export class ChainVerifier {
  private prev: { seq: number; hash: string } | null = null;
  private failed: ChainResult | null = null;
  count = 0;

  constructor(start: { seq: number; hash: string } | null = null) {
    this.prev = start;
  }

  /** Returns the failure once one is found (and keeps returning it). */
  push(r: AuditRecord): ChainResult {
    if (this.failed) return this.failed;
    this.count++;
    const bad = this.check(r);
    if (bad) {
      this.failed = { ok: false, seq: r.seq, reason: bad };
      return this.failed;
    }
    this.prev = { seq: r.seq, hash: r.hash };
    return { ok: true };
  }

  result(): ChainResult {
    return this.failed ?? { ok: true };
  }

  /** The last good record (seq and hash), null before the first. */
  last(): { seq: number; hash: string } | null {
    return this.prev;
  }

  private check(r: AuditRecord): string | null {
    const wantSeq = this.prev ? this.prev.seq + 1 : 1;
    if (!Number.isSafeInteger(r.seq)) return 'sequence number is not an integer';
    if (r.seq < wantSeq) return `sequence number ${r.seq} comes after ${wantSeq - 1} (reordered)`;
    if (r.seq > wantSeq) return `records ${wantSeq}..${r.seq - 1} are missing (deleted)`;
    const wantPrev = this.prev ? this.prev.hash : GENESIS_HASH;
    if (r.prevHash !== wantPrev) return this.prev ? 'previous hash does not match the record before it (deleted or reordered)' : 'first record does not chain from the genesis hash';
    let h: string;
    try {
      h = recordHash(r.prevHash, r);
    } catch {
      return 'record cannot be encoded';
    }
    if (r.hash !== h) return 'hash does not match (edited)';
    return null;
  }
}

/** Verifies a whole chain held in memory (see ChainVerifier for streams). */
export function verifyChain(records: Iterable<AuditRecord>): ChainResult {
  const v = new ChainVerifier();
  for (const r of records) {
    const res = v.push(r);
    if (!res.ok) return res;
  }
  return { ok: true };
}

export interface CheckpointBody {
  readonly seq: number;
  readonly hash: string;
  readonly at: number;
}

export interface Checkpoint extends CheckpointBody {
  /** Ed25519 signature, base64. */
  readonly signature: string;
  /** First 16 hex digits of SHA-256 over the public key (SPKI DER): which key signed. */
  readonly keyId: string;
}

function checkpointBytes(cp: CheckpointBody): Buffer {
  return Buffer.from(CHECKPOINT_DOMAIN + canonicalJson({ at: cp.at, hash: cp.hash, seq: cp.seq }), 'utf8');
}

/** A short, stable name for a public key. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

export type KeyResult<T> = { ok: true; value: T } | { ok: false; error: string };

function privateKey(pem: string): KeyResult<KeyObject> {
  try {
    const k = createPrivateKey(pem);
    if (k.asymmetricKeyType !== 'ed25519') return { ok: false, error: `not an Ed25519 key (${k.asymmetricKeyType ?? 'unknown'})` };
    return { ok: true, value: k };
  } catch (e) {
    return { ok: false, error: `not a private key PEM: ${(e as Error).message}` };
  }
}

function publicKey(pem: string): KeyResult<KeyObject> {
  try {
    const k = createPublicKey(pem);
    if (k.asymmetricKeyType !== 'ed25519') return { ok: false, error: `not an Ed25519 key (${k.asymmetricKeyType ?? 'unknown'})` };
    return { ok: true, value: k };
  } catch (e) {
    return { ok: false, error: `not a public key PEM: ${(e as Error).message}` };
  }
}

/** Signs a checkpoint with an Ed25519 private key (PKCS#8 PEM). */
export function signCheckpoint(cp: CheckpointBody, ed25519PrivateKeyPem: string): KeyResult<Checkpoint> {
  if (!HASH_RE.test(cp.hash) || !Number.isSafeInteger(cp.seq) || !Number.isSafeInteger(cp.at)) return { ok: false, error: 'checkpoint fields are malformed' };
  const k = privateKey(ed25519PrivateKeyPem);
  if (!k.ok) return k;
  const signature = sign(null, checkpointBytes(cp), k.value).toString('base64');
  return { ok: true, value: { seq: cp.seq, hash: cp.hash, at: cp.at, signature, keyId: keyIdOf(createPublicKey(k.value)) } };
}

/** True when the signature over (seq, hash, at) verifies with the given public key (SPKI PEM). */
export function verifyCheckpoint(cp: Checkpoint, publicKeyPem: string): { ok: true } | { ok: false; reason: string } {
  const k = publicKey(publicKeyPem);
  if (!k.ok) return { ok: false, reason: k.error };
  if (cp.keyId !== keyIdOf(k.value)) return { ok: false, reason: `signed by key ${cp.keyId}, not by the given key ${keyIdOf(k.value)}` };
  let good = false;
  try {
    good = verify(null, checkpointBytes(cp), k.value, Buffer.from(cp.signature, 'base64'));
  } catch {
    good = false;
  }
  return good ? { ok: true } : { ok: false, reason: 'signature does not verify' };
}
