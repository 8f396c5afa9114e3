import type { AuditCheckpointRow, AuditEntry, AuditQuery } from '../types.js';

export interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  subject: string;
  data: string;
  prev_hash: string;
  hash: string;
}

export interface AuditCheckpointDbRow {
  seq: number;
  at: number;
  hash: string;
  signature: string;
  key_id: string;
}

/** Data that no longer parses (the row was edited) still becomes a record: verification names it. */
export function toAuditEntry(r: AuditRow): AuditEntry {
  let data: Record<string, unknown>;
  try {
    const parsed = JSON.parse(r.data) as unknown;
    data = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { unparsable: r.data };
  } catch {
    data = { unparsable: r.data };
  }
  return { seq: r.seq, at: r.at, actor: r.actor, action: r.action, subject: r.subject, data, prevHash: r.prev_hash, hash: r.hash };
}

export function toAuditCheckpoint(r: AuditCheckpointDbRow): AuditCheckpointRow {
  return { seq: r.seq, at: r.at, hash: r.hash, signature: r.signature, keyId: r.key_id };
}

export const AUDIT_PAGE = 500;
export const AUDIT_LIST_MAX = 100_000;

/** WHERE clause and parameters for a list query; `ph(i)` renders the i-th placeholder. */
export function auditWhere(q: AuditQuery, ph: (i: number) => string): { where: string; params: unknown[]; limit: number } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    conds.push(sql.replace('?', ph(params.length)));
  };
  if (q.fromSeq !== undefined) add('seq >= ?', q.fromSeq);
  if (q.actor !== undefined) add('actor = ?', q.actor);
  if (q.action !== undefined) add('action = ?', q.action);
  if (q.since !== undefined) add('at >= ?', q.since);
  const limit = Math.max(1, Math.min(q.limit ?? 1000, AUDIT_LIST_MAX));
  return { where: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params, limit };
}
