import type { AuditCheckpointRow, AuditEntry, AuditQuery, AuditRepo, NewAuditEntry } from '../../types.js';
import { canonicalJson, nextRecord } from '../../../crypto/hashchain.js';
import { tx, type Pool } from './db.js';
import { AUDIT_PAGE, auditWhere, toAuditCheckpoint, toAuditEntry, type AuditCheckpointDbRow, type AuditRow } from '../audit-rows.js';

// Appends from every node serialise on this advisory lock (per database), so
// each reads the true last record and the chain never forks.
const AUDIT_LOCK = 0x61756469; // 'audi'

export class PgAudit implements AuditRepo {
  constructor(private readonly pool: Pool) {}

  async append(e: NewAuditEntry): Promise<{ seq: number; hash: string }> {
    return tx(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      const last = (await c.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1')).rows[0];
      const r = nextRecord(last ?? null, e);
      await c.query('INSERT INTO audit_log (seq, at, actor, action, subject, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        r.seq,
        r.at,
        r.actor,
        r.action,
        r.subject,
        canonicalJson(r.data),
        r.prevHash,
        r.hash,
      ]);
      return { seq: r.seq, hash: r.hash };
    });
  }

  async list(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const { where, params, limit } = auditWhere(q, (i) => `$${i}`);
    const r = await this.pool.query<AuditRow>(`SELECT * FROM audit_log ${where} ORDER BY seq LIMIT $${params.length + 1}`, [...params, limit]);
    return r.rows.map(toAuditEntry);
  }

  async *all(pageSize = AUDIT_PAGE): AsyncIterable<AuditEntry> {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const r = await this.pool.query<AuditRow>('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2', [after, pageSize]);
      for (const row of r.rows) yield toAuditEntry(row);
      if (r.rows.length < pageSize) return;
      after = r.rows[r.rows.length - 1]!.seq;
    }
  }

  async addCheckpoint(cp: AuditCheckpointRow): Promise<void> {
    await this.pool.query('INSERT INTO audit_checkpoints (seq, at, hash, signature, key_id) VALUES ($1, $2, $3, $4, $5)', [cp.seq, cp.at, cp.hash, cp.signature, cp.keyId]);
  }

  async listCheckpoints(): Promise<AuditCheckpointRow[]> {
    const r = await this.pool.query<AuditCheckpointDbRow>('SELECT * FROM audit_checkpoints ORDER BY seq, at');
    return r.rows.map(toAuditCheckpoint);
  }
}
