import type { QuarantineEntry, QuarantineRepo, StoredHold, VerdictRepo } from '../../types.js';
import { expungeBlobInTx } from './mailboxes.js';
import type { Verdict } from '../../../core/verdict.js';
import type { Db } from './db.js';
import { toQuarantineEntry, type NewQuarantine, type QuarantineRow } from '../rows.js';
import { prepared } from './statements.js';

/** Writes (or re-opens) a quarantine entry; callers run it inside the transaction that holds the recipients. */
export function quarantineInTx(db: Db, q: NewQuarantine): void {
  prepared(db,
    `INSERT INTO quarantine (queue_id, at, stage, reason, state, sender, recipients, size) VALUES (?, ?, ?, ?, 'held', ?, ?, ?)
     ON CONFLICT (queue_id) DO UPDATE SET at = excluded.at, stage = excluded.stage, reason = excluded.reason, state = 'held',
       actor = NULL, acted_at = NULL, recipients = excluded.recipients, size = excluded.size`,
  ).run(q.queueId, q.at, q.stage, q.reason, q.sender, JSON.stringify(q.recipients), q.size);
}

export class SqliteQuarantine implements QuarantineRepo {
  constructor(private readonly db: Db) {}

  async list(opts: { state?: QuarantineEntry['state']; limit?: number } = {}): Promise<QuarantineEntry[]> {
    const limit = opts.limit ?? 1000;
    const rows = (
      opts.state
        ? prepared(this.db, 'SELECT * FROM quarantine WHERE state = ? ORDER BY at DESC, queue_id LIMIT ?').all(opts.state, limit)
        : prepared(this.db, 'SELECT * FROM quarantine ORDER BY at DESC, queue_id LIMIT ?').all(limit)
    ) as QuarantineRow[];
    return rows.map(toQuarantineEntry);
  }

  async get(queueId: string): Promise<QuarantineEntry | null> {
    const r = prepared(this.db, 'SELECT * FROM quarantine WHERE queue_id = ?').get(queueId) as QuarantineRow | undefined;
    return r ? toQuarantineEntry(r) : null;
  }

  async release(queueId: string, actor: string, now: number): Promise<boolean> {
    return this.db
      .transaction(() => {
        const r = prepared(this.db, "UPDATE quarantine SET state = 'released', actor = ?, acted_at = ? WHERE queue_id = ? AND state = 'held'").run(actor, now, queueId);
        if (r.changes !== 1) return false;
        prepared(this.db, "UPDATE queue_recipients SET state = 'queued', next_attempt_at = ? WHERE queue_id = ? AND state = 'held'").run(now, queueId);
        return true;
      })
      .immediate();
  }

  async delete(queueId: string, actor: string, now: number): Promise<boolean> {
    return this.db
      .transaction(() => {
        const r = prepared(this.db, "UPDATE quarantine SET state = 'deleted', actor = ?, acted_at = ? WHERE queue_id = ? AND state = 'held'").run(actor, now, queueId);
        if (r.changes !== 1) return false;
        prepared(this.db, 'DELETE FROM queue_recipients WHERE queue_id = ?').run(queueId);
        prepared(this.db, 'DELETE FROM queue_messages WHERE id = ?').run(queueId);
        return true;
      })
      .immediate();
  }

  async holdStored(h: StoredHold): Promise<number> {
    return this.db
      .transaction(() => {
        const taken = h.copies.filter((c) => expungeBlobInTx(this.db, c.folderId, c.uid, h.blobId));
        if (taken.length === 0) return 0;
        prepared(this.db,
            "INSERT INTO queue_messages (id, blob_id, size, sender, received_at, source, client_address, auth_user, meta, verdicts) VALUES (?, ?, ?, ?, ?, 'local', '127.0.0.1', NULL, ?, ?)",
          )
          .run(h.queueId, h.blobId, h.size, h.sender, h.at, JSON.stringify({ rescan: true }), JSON.stringify(h.verdicts));
        const accounts = new Map(taken.map((c) => [c.accountId, c.address]));
        const ins = prepared(this.db, "INSERT INTO queue_recipients (queue_id, address, transport, account_id, next_attempt_at, state) VALUES (?, ?, 'local', ?, ?, 'held')");
        for (const [id, address] of accounts) ins.run(h.queueId, address, id, h.at);
        quarantineInTx(this.db, { queueId: h.queueId, at: h.at, stage: h.stage, reason: h.reason, sender: h.sender, size: h.size, recipients: [...accounts.values()] });
        return taken.length;
      })
      .immediate();
  }
}

export class SqliteVerdicts implements VerdictRepo {
  constructor(private readonly db: Db) {}

  async get(blobId: string): Promise<{ queueId: string; verdicts: Verdict[] } | null> {
    const r = prepared(this.db, 'SELECT queue_id, verdicts FROM message_verdicts WHERE blob_id = ?').get(blobId) as { queue_id: string; verdicts: string } | undefined;
    return r ? { queueId: r.queue_id, verdicts: JSON.parse(r.verdicts) as Verdict[] } : null;
  }
}
