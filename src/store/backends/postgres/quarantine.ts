import type { QuarantineEntry, QuarantineRepo, StoredHold, VerdictRepo } from '../../types.js';
import { expungeInTx } from './mailboxes.js';
import type { Verdict } from '../../../core/verdict.js';
import { tx, type Pool, type Queryable } from './db.js';
import { toQuarantineEntry, type NewQuarantine, type QuarantineRow } from '../rows.js';

/** Writes (or re-opens) a quarantine entry; callers run it inside the transaction that holds the recipients. */
export async function quarantineInTx(c: Queryable, q: NewQuarantine): Promise<void> {
  await c.query(
    `INSERT INTO quarantine (queue_id, at, stage, reason, state, sender, recipients, size) VALUES ($1, $2, $3, $4, 'held', $5, $6, $7)
     ON CONFLICT (queue_id) DO UPDATE SET at = excluded.at, stage = excluded.stage, reason = excluded.reason, state = 'held',
       actor = NULL, acted_at = NULL, recipients = excluded.recipients, size = excluded.size`,
    [q.queueId, q.at, q.stage, q.reason, q.sender, JSON.stringify(q.recipients), q.size],
  );
}

export class PgQuarantine implements QuarantineRepo {
  constructor(private readonly pool: Pool) {}

  async list(opts: { state?: QuarantineEntry['state']; limit?: number } = {}): Promise<QuarantineEntry[]> {
    const limit = opts.limit ?? 1000;
    const r = opts.state
      ? await this.pool.query<QuarantineRow>('SELECT * FROM quarantine WHERE state = $1 ORDER BY at DESC, queue_id LIMIT $2', [opts.state, limit])
      : await this.pool.query<QuarantineRow>('SELECT * FROM quarantine ORDER BY at DESC, queue_id LIMIT $1', [limit]);
    return r.rows.map(toQuarantineEntry);
  }

  async get(queueId: string): Promise<QuarantineEntry | null> {
    const r = await this.pool.query<QuarantineRow>('SELECT * FROM quarantine WHERE queue_id = $1', [queueId]);
    return r.rows[0] ? toQuarantineEntry(r.rows[0]) : null;
  }

  async release(queueId: string, actor: string, now: number): Promise<boolean> {
    return tx(this.pool, async (c) => {
      const r = await c.query("UPDATE quarantine SET state = 'released', actor = $1, acted_at = $2 WHERE queue_id = $3 AND state = 'held'", [actor, now, queueId]);
      if (r.rowCount !== 1) return false;
      await c.query("UPDATE queue_recipients SET state = 'queued', next_attempt_at = $1 WHERE queue_id = $2 AND state = 'held'", [now, queueId]);
      return true;
    });
  }

  async delete(queueId: string, actor: string, now: number): Promise<boolean> {
    return tx(this.pool, async (c) => {
      const r = await c.query("UPDATE quarantine SET state = 'deleted', actor = $1, acted_at = $2 WHERE queue_id = $3 AND state = 'held'", [actor, now, queueId]);
      if (r.rowCount !== 1) return false;
      await c.query('DELETE FROM queue_messages WHERE id = $1', [queueId]);
      return true;
    });
  }

  async holdStored(h: StoredHold): Promise<number> {
    return tx(this.pool, async (c) => {
      const taken: StoredHold['copies'][number][] = [];
      for (const copy of h.copies) {
        const still = await c.query('SELECT 1 FROM messages WHERE folder_id = $1 AND uid = $2 AND blob_id = $3', [copy.folderId, copy.uid, h.blobId]);
        if (still.rowCount === 0) continue;
        if ((await expungeInTx(c, copy.folderId, [copy.uid])).length === 1) taken.push(copy);
      }
      if (taken.length === 0) return 0;
      await c.query(
        "INSERT INTO queue_messages (id, blob_id, size, sender, received_at, source, client_address, auth_user, meta, verdicts) VALUES ($1, $2, $3, $4, $5, 'local', '127.0.0.1', NULL, $6, $7)",
        [h.queueId, h.blobId, h.size, h.sender, h.at, JSON.stringify({ rescan: true }), JSON.stringify(h.verdicts)],
      );
      const accounts = new Map(taken.map((x) => [x.accountId, x.address]));
      for (const [id, address] of accounts) {
        await c.query("INSERT INTO queue_recipients (queue_id, address, transport, account_id, next_attempt_at, state) VALUES ($1, $2, 'local', $3, $4, 'held')", [h.queueId, address, id, h.at]);
      }
      await quarantineInTx(c, { queueId: h.queueId, at: h.at, stage: h.stage, reason: h.reason, sender: h.sender, size: h.size, recipients: [...accounts.values()] });
      return taken.length;
    });
  }
}

export class PgVerdicts implements VerdictRepo {
  constructor(private readonly pool: Pool) {}

  async get(blobId: string): Promise<{ queueId: string; verdicts: Verdict[] } | null> {
    const r = await this.pool.query<{ queue_id: string; verdicts: string }>('SELECT queue_id, verdicts FROM message_verdicts WHERE blob_id = $1', [blobId]);
    const row = r.rows[0];
    return row ? { queueId: row.queue_id, verdicts: JSON.parse(row.verdicts) as Verdict[] } : null;
  }
}
