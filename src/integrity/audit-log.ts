/**
 * The audit log service: records administrative actions in the store's
 * hash-chained log, verifies the chain and its signed checkpoints, and signs
 * new checkpoints with a key the server never holds.
 */
import type { AuditCheckpointRow, Store } from '../store/types.js';
import { ChainVerifier, signCheckpoint, verifyCheckpoint } from '../crypto/hashchain.js';

export interface AuditAction {
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  /** Details; never a password or a key. */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** Appends one record; returns its sequence number and hash. */
export async function recordAudit(store: Store, a: AuditAction, now: number): Promise<{ seq: number; hash: string }> {
  return store.meta.audit.append({ at: now, actor: a.actor, action: a.action, subject: a.subject, data: a.data ?? {} });
}

export interface AuditVerifyReport {
  readonly ok: boolean;
  /** Records read (up to and including the first bad one). */
  readonly records: number;
  readonly checkpoints: number;
  /** Checkpoints whose signature was checked and holds (0 without a public key). */
  readonly signedCheckpoints: number;
  readonly firstBad?: { readonly seq: number; readonly reason: string };
  /** Checkpoints that do not hold, by seq, in order. */
  readonly badCheckpoints: readonly { readonly seq: number; readonly reason: string }[];
  /** The last record, when the chain is intact. */
  readonly last?: { readonly seq: number; readonly hash: string };
}

/**
 * Pages through the whole log (bounded memory: the checkpoints and one page)
 * and checks the chain; each checkpoint must name the hash of the record at
 * its seq, and with a public key its signature must verify. A chain that
 * ends before a checkpoint's seq lost its tail: that is reported too.
 */
export async function verifyAuditLog(store: Store, publicKeyPem?: string): Promise<AuditVerifyReport> {
  const cps = await store.meta.audit.listCheckpoints();
  const bySeq = new Map<number, AuditCheckpointRow[]>();
  for (const cp of cps) bySeq.set(cp.seq, [...(bySeq.get(cp.seq) ?? []), cp]);
  const badCheckpoints: { seq: number; reason: string }[] = [];
  let signedCheckpoints = 0;
  const seen = new Set<AuditCheckpointRow>();

  const chain = new ChainVerifier();
  let firstBad: { seq: number; reason: string } | undefined;
  for await (const r of store.meta.audit.all()) {
    const res = chain.push(r);
    if (!res.ok) {
      firstBad = { seq: res.seq, reason: res.reason };
      break;
    }
    for (const cp of bySeq.get(r.seq) ?? []) {
      seen.add(cp);
      if (cp.hash !== r.hash) {
        badCheckpoints.push({ seq: cp.seq, reason: `checkpoint hash does not match record ${r.seq} (edited before the checkpoint)` });
        continue;
      }
      if (publicKeyPem !== undefined) {
        const v = verifyCheckpoint(cp, publicKeyPem);
        if (v.ok) signedCheckpoints++;
        else badCheckpoints.push({ seq: cp.seq, reason: `checkpoint signature: ${v.reason}` });
      }
    }
  }
  const last = chain.last();
  if (!firstBad) {
    for (const cp of cps) {
      if (!seen.has(cp)) badCheckpoints.push({ seq: cp.seq, reason: `checkpoint names record ${cp.seq}, but the log ends at ${last?.seq ?? 0} (records deleted)` });
    }
  }
  badCheckpoints.sort((a, b) => a.seq - b.seq);
  // A bad checkpoint means the chain was rebuilt before it: the first record it covers is suspect.
  if (!firstBad && badCheckpoints.length > 0) firstBad = badCheckpoints[0];
  return {
    ok: firstBad === undefined,
    records: chain.count,
    checkpoints: cps.length,
    signedCheckpoints,
    badCheckpoints,
    ...(firstBad ? { firstBad } : {}),
    ...(!firstBad && last ? { last } : {}),
  };
}

export type CheckpointResult = { ok: true; checkpoint: AuditCheckpointRow } | { ok: false; error: string };

/**
 * Verifies the chain, then signs its last record and stores the checkpoint.
 * Refuses to sign a log that does not verify (signing it would bless the tampering).
 */
export async function checkpoint(store: Store, privateKeyPem: string, now: number): Promise<CheckpointResult> {
  const v = await verifyAuditLog(store);
  if (!v.ok) return { ok: false, error: `the log does not verify: record ${v.firstBad?.seq}: ${v.firstBad?.reason}` };
  if (!v.last) return { ok: false, error: 'the audit log is empty: nothing to sign' };
  const signed = signCheckpoint({ seq: v.last.seq, hash: v.last.hash, at: now }, privateKeyPem);
  if (!signed.ok) return { ok: false, error: signed.error };
  await store.meta.audit.addCheckpoint(signed.value);
  return { ok: true, checkpoint: signed.value };
}
