import type { AuditCheckpointRow, AuditEntry, AuditQuery, AuditRepo, NewAuditEntry } from '../../types.js';
import { canonicalJson, nextRecord } from '../../../crypto/hashchain.js';
import type { Db } from './db.js';
import { AUDIT_PAGE, auditWhere, toAuditCheckpoint, toAuditEntry, type AuditCheckpointDbRow, type AuditRow } from '../audit-rows.js';
import { prepared } from './statements.js';

export class SqliteAudit implements AuditRepo {
  constructor(private readonly db: Db) {}

  async append(e: NewAuditEntry): Promise<{ seq: number; hash: string }> {
    // IMMEDIATE takes the write lock before reading the last record: a second
    // process (the CLI beside the server) waits, so the chain never forks.
    return this.db
      .transaction(() => {
        const last = prepared(this.db, 'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
        const r = nextRecord(last ?? null, e);
        prepared(this.db, 'INSERT INTO audit_log (seq, at, actor, action, subject, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(r.seq, r.at, r.actor, r.action, r.subject, canonicalJson(r.data), r.prevHash, r.hash);
        return { seq: r.seq, hash: r.hash };
      })
      .immediate();
  }

  async list(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const { where, params, limit } = auditWhere(q, () => '?');
    const rows = this.db.prepare(`SELECT * FROM audit_log ${where} ORDER BY seq LIMIT ?`).all(...params, limit) as AuditRow[];
    return rows.map(toAuditEntry);
  }

  async *all(pageSize = AUDIT_PAGE): AsyncIterable<AuditEntry> {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = prepared(this.db, 'SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?').all(after, pageSize) as AuditRow[];
      for (const r of rows) yield toAuditEntry(r);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  async addCheckpoint(cp: AuditCheckpointRow): Promise<void> {
    prepared(this.db, 'INSERT INTO audit_checkpoints (seq, at, hash, signature, key_id) VALUES (?, ?, ?, ?, ?)').run(cp.seq, cp.at, cp.hash, cp.signature, cp.keyId);
  }

  async listCheckpoints(): Promise<AuditCheckpointRow[]> {
    const rows = prepared(this.db, 'SELECT * FROM audit_checkpoints ORDER BY seq, at').all() as AuditCheckpointDbRow[];
    return rows.map(toAuditCheckpoint);
  }
}
