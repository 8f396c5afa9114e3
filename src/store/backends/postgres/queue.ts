import type {
  DeliveryTiming,
  HeaderCacheEntry,
  Lease,
  LeaseHandOff,
  LocalDeliveryItem,
  LocalDeliveryOutcome,
  LeaseRequest,
  NewQueueMessage,
  NewRecipient,
  QueueMessage,
  QueueRecipient,
  QueueRepo,
  QueueStats,
  RecipientState,
  ScanLease,
  ScanOutcome,
  ScanStored,
} from '../../types.js';
import { tx, type Client, type Pool } from './db.js';
import { oldestAge } from './queue-age.js';
import { appendInTx } from './mailboxes.js';
import { initialState, toQueueMessage, toRecipient, type QueueMessageRow, type RecipientRow } from '../rows.js';
import { quarantineInTx } from './quarantine.js';
import { recordDeliveryTime } from './delivery-times.js';

interface Pending {
  msg: NewQueueMessage;
  rcpts: NewRecipient[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Inserts a batch of messages and their recipients with two statements, whatever the batch size. */
async function insertBatch(c: Client, batch: Pending[]): Promise<void> {
  const ms = batch.map((p) => p.msg);
  await c.query(
    `INSERT INTO queue_messages (id, blob_id, size, sender, received_at, source, client_address, auth_user, meta, verdicts, scan_token, scan_until)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[])`,
    [
      ms.map((m) => m.id),
      ms.map((m) => m.blobId),
      ms.map((m) => m.size),
      ms.map((m) => m.sender),
      ms.map((m) => m.receivedAt),
      ms.map((m) => m.source),
      ms.map((m) => m.clientAddress),
      ms.map((m) => m.authUser),
      ms.map((m) => JSON.stringify(m.meta)),
      ms.map((m) => JSON.stringify(m.verdicts ?? [])),
      ms.map((m) => (m.route === 'scan' ? (m.scanLease?.token ?? null) : null)),
      ms.map((m) => (m.route === 'scan' ? (m.scanLease?.until ?? null) : null)),
    ],
  );
  const rs = batch.flatMap((p) => p.rcpts.map((r) => ({ r, m: p.msg })));
  if (rs.length === 0) return;
  // WITH ORDINALITY keeps recipient ids in the order they were given, as one INSERT per recipient would.
  await c.query(
    `INSERT INTO queue_recipients (queue_id, address, transport, account_id, next_attempt_at, state)
     SELECT q, a, t, acc, n, s FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) WITH ORDINALITY AS u(q, a, t, acc, n, s, o)
     ORDER BY o`,
    [
      rs.map((x) => x.m.id),
      rs.map((x) => x.r.address),
      rs.map((x) => x.r.transport),
      rs.map((x) => x.r.accountId ?? null),
      rs.map((x) => x.m.receivedAt),
      rs.map((x) => initialState(x.m.route)),
    ],
  );
  for (const p of batch) {
    const m = p.msg;
    if (typeof m.route === 'object') {
      await quarantineInTx(c, { ...m.route.quarantine, queueId: m.id, at: m.receivedAt, sender: m.sender, size: m.size, recipients: p.rcpts.map((r) => r.address) });
    }
  }
}

/**
 * The spool over PostgreSQL. Enqueues that arrive while a commit is in flight
 * wait and go together in the next transaction (group commit): one WAL flush
 * serves many concurrent SMTP sessions, and each caller's promise resolves
 * only after COMMIT returned (synchronous_commit on), so `250` still means
 * "on disk". Leasing uses FOR UPDATE SKIP LOCKED, so workers on any number
 * of nodes take disjoint recipients without waiting for each other.
 */
export class PgQueue implements QueueRepo {
  private pending: Pending[] = [];
  private flushing = false;
  /** Settles when the current flush loop has committed (or rejected) everything it took. */
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly pool: Pool) {}

  enqueue(msg: NewQueueMessage, recipients: NewRecipient[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ msg, rcpts: recipients, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        this.idle = new Promise((done) => setImmediate(() => {
          this.flush().then(done, done);
        }));
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await tx(this.pool, (c) => insertBatch(c, batch));
        batch.forEach((p) => p.resolve());
      } catch {
        // One bad entry must not fail its neighbours: retry each on its own.
        for (const p of batch) {
          try {
            await tx(this.pool, (c) => insertBatch(c, [p]));
            p.resolve();
          } catch (e) {
            p.reject(e);
          }
        }
      }
    }
    this.flushing = false;
  }

  /** Waits until every enqueue already accepted has settled (before the pool is closed). */
  async drain(): Promise<void> {
    await this.idle;
  }

  async lease(req: LeaseRequest): Promise<Lease[]> {
    return tx(this.pool, async (c) => {
      const until = req.now + req.leaseMs;
      // Rows another node is leasing right now are skipped, not waited for; a row
      // that changed after this statement's snapshot is re-checked once locked.
      const r = await c.query<RecipientRow>(
        `WITH due AS (
           SELECT id FROM queue_recipients
           WHERE transport = $1 AND (
             (state IN ('queued','deferred') AND next_attempt_at <= $2) OR
             (state = 'leased' AND lease_until <= $2))
           ORDER BY next_attempt_at, id LIMIT $3
           FOR UPDATE SKIP LOCKED)
         UPDATE queue_recipients r
         SET state = 'leased', lease_token = replace(gen_random_uuid()::text, '-', ''), lease_until = $4, leased_at = $2, attempts = r.attempts + 1
         FROM due WHERE r.id = due.id
         RETURNING r.*`,
        [req.transport, req.now, req.limit, until],
      );
      if (r.rows.length === 0) return [];
      const rows = r.rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.id - b.id);
      const ms = await c.query<QueueMessageRow>('SELECT * FROM queue_messages WHERE id = ANY($1::text[])', [[...new Set(rows.map((x) => x.queue_id))]]);
      const byId = new Map(ms.rows.map((m) => [m.id, toQueueMessage(m)]));
      return rows.map((row) => ({ token: row.lease_token!, until, recipient: toRecipient(row), message: byId.get(row.queue_id)! }));
    });
  }

  async deliverLocal(
    lease: Lease,
    folderId: number,
    now: number,
    stored?: { blobId: string; size: number },
    headerCache?: HeaderCacheEntry | null,
  ): Promise<{ uid: number } | null> {
    const blob = stored ?? { blobId: lease.message.blobId, size: lease.message.size };
    return tx(this.pool, async (c) => {
      const held = await c.query(
        "SELECT 1 FROM queue_recipients WHERE id = $1 AND state = 'leased' AND lease_token = $2 FOR UPDATE",
        [lease.recipient.id, lease.token],
      );
      if (held.rowCount === 0) return null;
      const [m] = await appendInTx(c, folderId, [{ blobId: blob.blobId, size: blob.size, internalDate: now, headerCache }]);
      if (lease.message.verdicts.length > 0) {
        await c.query('INSERT INTO message_verdicts (blob_id, queue_id, verdicts) VALUES ($1, $2, $3) ON CONFLICT (blob_id) DO NOTHING', [
          blob.blobId,
          lease.message.id,
          JSON.stringify(lease.message.verdicts),
        ]);
      }
      await finish(c, lease, 'delivered', now, null);
      await recordDeliveryTime(c, lease, now);
      return { uid: m!.uid };
    });
  }

  /** One transaction per item, in order (each a round trip; a batched commit is left for later). */
  async deliverLocalMany(items: readonly LocalDeliveryItem[]): Promise<LocalDeliveryOutcome[]> {
    const out: LocalDeliveryOutcome[] = [];
    for (const it of items) {
      try {
        out.push(await this.deliverLocal(it.lease, it.folderId, it.now, it.stored, it.headerCache));
      } catch (error) {
        out.push({ error });
      }
    }
    return out;
  }

  async complete(lease: Lease, now: number, detail?: string, timing?: DeliveryTiming): Promise<boolean> {
    return tx(this.pool, async (c) => {
      if (!(await finish(c, lease, 'delivered', now, detail ?? null, timing))) return false;
      await recordDeliveryTime(c, lease, now);
      return true;
    });
  }

  async fail(lease: Lease, now: number, error: string, timing?: DeliveryTiming): Promise<boolean> {
    return finish(this.pool, lease, 'failed', now, error, timing);
  }

  async renew(lease: Lease, until: number): Promise<boolean> {
    const r = await this.pool.query("UPDATE queue_recipients SET lease_until = $1 WHERE id = $2 AND state = 'leased' AND lease_token = $3", [
      until,
      lease.recipient.id,
      lease.token,
    ]);
    return r.rowCount === 1;
  }

  async defer(lease: Lease, until: number, error: string, timing?: DeliveryTiming): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE queue_recipients SET state = 'deferred', next_attempt_at = $1, last_error = $2, timing = COALESCE($3, timing), lease_token = NULL, lease_until = NULL
       WHERE id = $4 AND state = 'leased' AND lease_token = $5`,
      [until, error, timing ? JSON.stringify(timing) : null, lease.recipient.id, lease.token],
    );
    return r.rowCount === 1;
  }

  async leaseScan(req: { now: number; leaseMs: number; limit: number }): Promise<ScanLease[]> {
    const until = req.now + req.leaseMs;
    const r = await this.pool.query<QueueMessageRow & { scan_token: string }>(
      `WITH due AS (
         SELECT q.id FROM queue_messages q
         WHERE (q.scan_until IS NULL OR q.scan_until <= $1)
           AND EXISTS (SELECT 1 FROM queue_recipients r WHERE r.queue_id = q.id AND r.state = 'scanning')
         ORDER BY q.id LIMIT $2
         FOR UPDATE SKIP LOCKED)
       UPDATE queue_messages q SET scan_token = replace(gen_random_uuid()::text, '-', ''), scan_until = $3
       FROM due WHERE q.id = due.id
       RETURNING q.*`,
      [req.now, req.limit, until],
    );
    return r.rows
      .sort((a, b) => a.received_at - b.received_at || (a.id < b.id ? -1 : 1))
      .map((m) => ({ token: m.scan_token, until, message: toQueueMessage(m) }));
  }

  async finishScan(lease: ScanLease, o: ScanOutcome): Promise<boolean> {
    return (await this.finishScanLeasing(lease, o)) !== false;
  }

  /** `finishScan`, and with `handOff` the leases of that transport's recipients (see QueueRepo.finishScanMany). */
  private async finishScanLeasing(lease: ScanLease, o: ScanOutcome, handOff?: LeaseHandOff): Promise<boolean | Lease[]> {
    return tx(this.pool, async (c) => {
      const r = await c.query<QueueMessageRow>('SELECT * FROM queue_messages WHERE id = $1 AND scan_token = $2 FOR UPDATE', [lease.message.id, lease.token]);
      const m = r.rows[0];
      if (!m) return false;
      const verdicts = [...(JSON.parse(m.verdicts) as unknown[]), ...o.verdicts];
      const size = o.blob?.size ?? m.size;
      // A stage's meta (e.g. a TLS floor) is stored with the outcome, in this transaction.
      const meta = o.meta ? JSON.stringify({ ...(JSON.parse(m.meta) as Record<string, unknown>), ...o.meta }) : m.meta;
      await c.query('UPDATE queue_messages SET verdicts = $1, meta = $2, scan_token = NULL, scan_until = NULL, blob_id = $3, size = $4 WHERE id = $5', [
        JSON.stringify(verdicts),
        meta,
        o.blob?.id ?? m.blob_id,
        size,
        m.id,
      ]);
      if (o.next === 'deliver') {
        await c.query(
          "UPDATE queue_recipients SET state = 'queued', next_attempt_at = $1 WHERE queue_id = $2 AND state = 'scanning' AND transport IS DISTINCT FROM $3",
          [o.now, m.id, handOff?.transport ?? null],
        );
        if (handOff) {
          // The hand-off's recipients (all that still scan) go from `scanning` straight to leased, as `lease` leases them.
          const until = o.now + handOff.leaseMs;
          const leased = await c.query<RecipientRow>(
            `UPDATE queue_recipients r
             SET state = 'leased', next_attempt_at = $3, lease_token = replace(gen_random_uuid()::text, '-', ''), lease_until = $2, leased_at = $3, attempts = r.attempts + 1
             WHERE queue_id = $1 AND state = 'scanning'
             RETURNING r.*`,
            [m.id, until, o.now],
          );
          const message = toQueueMessage({ ...m, verdicts: JSON.stringify(verdicts), meta, blob_id: o.blob?.id ?? m.blob_id, size });
          return leased.rows.sort((a, b) => a.id - b.id).map((row) => ({ token: row.lease_token!, until, recipient: toRecipient(row), message }));
        }
      } else {
        const held = await c.query<{ address: string }>(
          "UPDATE queue_recipients SET state = 'held' WHERE queue_id = $1 AND state = 'scanning' RETURNING address, id",
          [m.id],
        );
        const rcpts = held.rows.map((x) => x.address);
        await quarantineInTx(c, { ...o.next.quarantine, queueId: m.id, at: o.now, sender: m.sender, size, recipients: rcpts });
      }
      return true;
    });
  }

  /** One transaction per scan, in order. */
  async finishScanMany(items: readonly { lease: ScanLease; outcome: ScanOutcome }[], handOff?: LeaseHandOff): Promise<ScanStored[]> {
    const out: ScanStored[] = [];
    for (const it of items) {
      try {
        const r = await this.finishScanLeasing(it.lease, it.outcome, handOff);
        out.push(Array.isArray(r) ? { leases: r } : r);
      } catch (error) {
        out.push({ error });
      }
    }
    return out;
  }

  async deferScan(lease: ScanLease, until: number, error: string): Promise<boolean> {
    return tx(this.pool, async (c) => {
      const r = await c.query('UPDATE queue_messages SET scan_token = NULL, scan_until = $1 WHERE id = $2 AND scan_token = $3', [until, lease.message.id, lease.token]);
      if (r.rowCount !== 1) return false;
      await c.query("UPDATE queue_recipients SET last_error = $1, attempts = attempts + 1 WHERE queue_id = $2 AND state = 'scanning'", [error, lease.message.id]);
      return true;
    });
  }

  async getMessage(queueId: string): Promise<QueueMessage | null> {
    const r = await this.pool.query<QueueMessageRow>('SELECT * FROM queue_messages WHERE id = $1', [queueId]);
    return r.rows[0] ? toQueueMessage(r.rows[0]) : null;
  }

  async listRecipients(queueId: string): Promise<QueueRecipient[]> {
    return (await this.pool.query<RecipientRow>('SELECT * FROM queue_recipients WHERE queue_id = $1 ORDER BY id', [queueId])).rows.map(toRecipient);
  }

  async oldestAge(now = Date.now()): Promise<number | null> {
    return oldestAge(this.pool, now);
  }

  async listPending(limit = 1000): Promise<QueueRecipient[]> {
    const r = await this.pool.query<RecipientRow>(
      "SELECT * FROM queue_recipients WHERE state NOT IN ('delivered','failed') ORDER BY queue_id, id LIMIT $1",
      [limit],
    );
    return r.rows.map(toRecipient);
  }

  async hold(queueId: string): Promise<number> {
    const r = await this.pool.query("UPDATE queue_recipients SET state = 'held' WHERE queue_id = $1 AND state IN ('queued','deferred')", [queueId]);
    return r.rowCount ?? 0;
  }

  async release(queueId: string, now: number): Promise<number> {
    const r = await this.pool.query("UPDATE queue_recipients SET state = 'queued', next_attempt_at = $1 WHERE queue_id = $2 AND state = 'held'", [
      now,
      queueId,
    ]);
    return r.rowCount ?? 0;
  }

  async retryNow(queueId: string, now: number): Promise<number> {
    const r = await this.pool.query("UPDATE queue_recipients SET next_attempt_at = $1 WHERE queue_id = $2 AND state IN ('queued','deferred')", [
      now,
      queueId,
    ]);
    return r.rowCount ?? 0;
  }

  async deleteMessage(queueId: string): Promise<boolean> {
    // Recipients go with their message (ON DELETE CASCADE), in the same statement.
    return ((await this.pool.query('DELETE FROM queue_messages WHERE id = $1', [queueId])).rowCount ?? 0) > 0;
  }

  async stats(): Promise<QueueStats> {
    const states = await this.pool.query<{ state: RecipientState; messages: string; recipients: string }>(
      "SELECT state, COUNT(DISTINCT queue_id) AS messages, COUNT(*) AS recipients FROM queue_recipients WHERE state NOT IN ('delivered','failed') GROUP BY state ORDER BY state",
    );
    const t = await this.pool.query<{ recipients: string; messages: string; oldest: string | null }>(
      "SELECT COUNT(*) AS recipients, COUNT(DISTINCT r.queue_id) AS messages, MIN(m.received_at) AS oldest FROM queue_recipients r JOIN queue_messages m ON m.id = r.queue_id WHERE r.state NOT IN ('delivered','failed')",
    );
    const row = t.rows[0]!;
    return {
      messages: Number(row.messages),
      recipients: Number(row.recipients),
      oldestReceivedAt: row.oldest === null ? null : Number(row.oldest),
      states: states.rows.map((r) => ({ state: r.state, messages: Number(r.messages), recipients: Number(r.recipients) })),
    };
  }

  async purgeFinished(): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM queue_messages q WHERE NOT EXISTS (
         SELECT 1 FROM queue_recipients r WHERE r.queue_id = q.id AND r.state NOT IN ('delivered','failed'))`,
    );
    return r.rowCount ?? 0;
  }
}

/** Ends a lease in a final state, only if it is still held; one statement, so atomic on its own. */
async function finish(
  q: Pick<Client, 'query'>,
  lease: Lease,
  state: RecipientState,
  now: number,
  error: string | null,
  timing?: DeliveryTiming,
): Promise<boolean> {
  const r = await q.query(
    `UPDATE queue_recipients SET state = $1, delivered_at = $2, last_error = COALESCE($3, last_error), timing = COALESCE($4, timing),
       lease_token = NULL, lease_until = NULL
     WHERE id = $5 AND state = 'leased' AND lease_token = $6`,
    [state, state === 'delivered' ? now : null, error, timing ? JSON.stringify(timing) : null, lease.recipient.id, lease.token],
  );
  return r.rowCount === 1;
}
