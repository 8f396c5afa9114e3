import type {
  DeliveryTiming,
  HeaderCacheEntry,
  Lease,
  LeaseHandOff,
  LeaseRequest,
  LocalDeliveryItem,
  LocalDeliveryOutcome,
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
import { newToken } from '../../../core/ids.js';
import type Database from 'better-sqlite3';
import { withoutSync, type Db } from './db.js';
import { oldestAge } from './queue-age.js';
import { appendInTx } from './mailboxes.js';
import { initialState, toQueueMessage, toRecipient, type QueueMessageRow, type RecipientRow } from '../rows.js';
import { quarantineInTx } from './quarantine.js';
import { recordDeliveryTime } from './delivery-times.js';
import { prepared, preparedPluck } from './statements.js';

type Statement = Database.Statement<unknown[]>;

/**
 * One transaction over many items, each in its own savepoint (`one` is a
 * transaction function: nested, it runs as a savepoint): an item that throws
 * is rolled back alone and answered `{ error }`, the others commit together.
 */
function eachInSavepoint<T, R>(db: Db, one: (item: T) => R): Database.Transaction<(items: readonly T[]) => (R | { error: unknown })[]> {
  return db.transaction((items: readonly T[]) =>
    items.map((it): R | { error: unknown } => {
      try {
        return one(it);
      } catch (error) {
        return { error };
      }
    }),
  );
}

interface Pending {
  msg: NewQueueMessage;
  rcpts: NewRecipient[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * The spool over SQLite. Enqueues that arrive in the same event-loop turn are
 * committed in one transaction (group commit): one fsync serves many
 * concurrent SMTP sessions, and each caller's promise resolves only after that
 * commit, so `250` still means "on disk".
 */
export class SqliteQueue implements QueueRepo {
  private pending: Pending[] = [];
  private scheduled = false;

  // Transaction functions built once: db.transaction() defines four wrappers on every call,
  // and these run for every message.
  private readonly leaseTx;
  private readonly leaseScanTx;
  private readonly withLeaseTx;
  private readonly deliverOneTx;
  private readonly deliverManyTx;
  private readonly finishScanOneTx;
  private readonly finishScanManyTx;

  constructor(private readonly db: Db) {
    this.leaseTx = db.transaction((req: LeaseRequest) => this.takeLeases(req));
    this.leaseScanTx = db.transaction((req: { now: number; leaseMs: number; limit: number }) => this.takeScanLeases(req));
    this.withLeaseTx = db.transaction((lease: Lease, fn: () => unknown): unknown => {
      const r = this.stmt("SELECT lease_token FROM queue_recipients WHERE id = ? AND state = 'leased'").get(lease.recipient.id) as
        | { lease_token: string }
        | undefined;
      if (!r || r.lease_token !== lease.token) return null;
      return fn();
    });
    this.deliverOneTx = db.transaction((it: LocalDeliveryItem) => this.deliverInTx(it.lease, it.folderId, it.now, it.stored, it.headerCache));
    this.deliverManyTx = eachInSavepoint(db, this.deliverOneTx);
    this.finishScanOneTx = db.transaction((it: { lease: ScanLease; outcome: ScanOutcome; handOff?: LeaseHandOff }) =>
      this.finishScanInTx(it.lease, it.outcome, it.handOff),
    );
    this.finishScanManyTx = eachInSavepoint(db, this.finishScanOneTx);
  }

  private stmt(sql: string): Statement {
    return prepared(this.db, sql);
  }

  enqueue(msg: NewQueueMessage, recipients: NewRecipient[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ msg, rcpts: recipients, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    const insMsg = this.stmt(
      'INSERT INTO queue_messages (id, blob_id, size, sender, received_at, source, client_address, auth_user, meta, verdicts, scan_token, scan_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insRcpt = this.stmt(
      'INSERT INTO queue_recipients (queue_id, address, transport, account_id, next_attempt_at, state) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const one = (p: Pending) => {
      const m = p.msg;
      const scan = m.route === 'scan' ? (m.scanLease ?? null) : null;
      insMsg.run(
        m.id,
        m.blobId,
        m.size,
        m.sender,
        m.receivedAt,
        m.source,
        m.clientAddress,
        m.authUser,
        JSON.stringify(m.meta),
        JSON.stringify(m.verdicts ?? []),
        scan?.token ?? null,
        scan?.until ?? null,
      );
      const state = initialState(m.route);
      for (const r of p.rcpts) insRcpt.run(m.id, r.address, r.transport, r.accountId ?? null, m.receivedAt, state);
      if (typeof m.route === 'object') {
        quarantineInTx(this.db, { ...m.route.quarantine, queueId: m.id, at: m.receivedAt, sender: m.sender, size: m.size, recipients: p.rcpts.map((r) => r.address) });
      }
    };
    try {
      this.db.transaction(() => batch.forEach(one)).immediate();
      batch.forEach((p) => p.resolve());
    } catch {
      // One bad entry must not fail its neighbours: retry each on its own.
      for (const p of batch) {
        try {
          this.db.transaction(() => one(p)).immediate();
          p.resolve();
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }

  async lease(req: LeaseRequest): Promise<Lease[]> {
    return withoutSync(this.db, () => this.leaseTx.immediate(req));
  }

  /** The body of `lease`, inside its transaction. */
  private takeLeases(req: LeaseRequest): Lease[] {
    const getMsg = this.stmt('SELECT * FROM queue_messages WHERE id = ?');
    return this.leaseRows(dueRecipients(this.db, req), req.now, req.leaseMs, null, (r) => toQueueMessage(getMsg.get(r.queue_id) as QueueMessageRow));
  }

  /**
   * Leases the recipients `rows` (read in this transaction), each with a token
   * of its own; `dueAt` (not null) also becomes their next attempt time.
   */
  private leaseRows(rows: readonly RecipientRow[], now: number, leaseMs: number, dueAt: number | null, messageOf: (r: RecipientRow) => QueueMessage): Lease[] {
    const upd = this.stmt(
      "UPDATE queue_recipients SET state = 'leased', next_attempt_at = COALESCE(?, next_attempt_at), lease_token = ?, lease_until = ?, leased_at = ?, attempts = attempts + 1 WHERE id = ?",
    );
    const until = now + leaseMs;
    return rows.map((r) => {
      const token = newToken();
      upd.run(dueAt, token, until, now, r.id);
      const next = dueAt ?? r.next_attempt_at;
      return {
        token,
        until,
        recipient: toRecipient({ ...r, state: 'leased', next_attempt_at: next, attempts: r.attempts + 1, lease_token: token, lease_until: until, leased_at: now }),
        message: messageOf(r),
      };
    });
  }

  /** Runs fn only if the lease is still held; returns false when it is not. */
  private withLease<T>(lease: Lease, fn: () => T): T | null {
    return this.withLeaseTx.immediate(lease, fn) as T | null;
  }

  async deliverLocal(lease: Lease, folderId: number, now: number, stored?: { blobId: string; size: number }): Promise<{ uid: number } | null> {
    return this.db.transaction(() => this.deliverInTx(lease, folderId, now, stored)).immediate();
  }

  /**
   * All items in one IMMEDIATE transaction (one WAL sync), each inside its own
   * savepoint: an item that throws is rolled back alone and reported, its
   * neighbours still commit. A failed commit fails every item (nothing stored).
   */
  async deliverLocalMany(items: readonly LocalDeliveryItem[]): Promise<LocalDeliveryOutcome[]> {
    return this.deliverManyTx.immediate(items);
  }

  /** The body of `deliverLocal`, inside the caller's transaction. */
  private deliverInTx(
    lease: Lease,
    folderId: number,
    now: number,
    stored?: { blobId: string; size: number },
    headerCache?: HeaderCacheEntry | null,
  ): { uid: number } | null {
    const r = this.stmt("SELECT lease_token FROM queue_recipients WHERE id = ? AND state = 'leased'").get(lease.recipient.id) as
      | { lease_token: string }
      | undefined;
    if (!r || r.lease_token !== lease.token) return null;
    const blob = stored ?? { blobId: lease.message.blobId, size: lease.message.size };
    const m = appendInTx(this.db, folderId, { blobId: blob.blobId, size: blob.size, internalDate: now, headerCache });
    if (lease.message.verdicts.length > 0) {
      this.stmt('INSERT OR IGNORE INTO message_verdicts (blob_id, queue_id, verdicts) VALUES (?, ?, ?)')
        .run(blob.blobId, lease.message.id, JSON.stringify(lease.message.verdicts));
    }
    this.finish(lease.recipient.id, 'delivered', now, null);
    recordDeliveryTime(this.db, lease, now);
    return { uid: m.uid };
  }

  private finish(id: number, state: RecipientState, now: number, error: string | null, timing?: DeliveryTiming): void {
    this.stmt(
        'UPDATE queue_recipients SET state = ?, delivered_at = ?, last_error = COALESCE(?, last_error), timing = COALESCE(?, timing), lease_token = NULL, lease_until = NULL WHERE id = ?',
      )
      .run(state, state === 'delivered' ? now : null, error, timing ? JSON.stringify(timing) : null, id);
  }

  async complete(lease: Lease, now: number, detail?: string, timing?: DeliveryTiming): Promise<boolean> {
    return (
      this.withLease(lease, () => {
        this.finish(lease.recipient.id, 'delivered', now, detail ?? null, timing);
        recordDeliveryTime(this.db, lease, now);
        return true;
      }) ?? false
    );
  }

  async fail(lease: Lease, now: number, error: string, timing?: DeliveryTiming): Promise<boolean> {
    return this.withLease(lease, () => (this.finish(lease.recipient.id, 'failed', now, error, timing), true)) ?? false;
  }

  async renew(lease: Lease, until: number): Promise<boolean> {
    const r = this.stmt("UPDATE queue_recipients SET lease_until = ? WHERE id = ? AND state = 'leased' AND lease_token = ?")
      .run(until, lease.recipient.id, lease.token);
    return r.changes === 1;
  }

  async defer(lease: Lease, until: number, error: string, timing?: DeliveryTiming): Promise<boolean> {
    return (
      this.withLease(lease, () => {
        this.stmt(
            "UPDATE queue_recipients SET state = 'deferred', next_attempt_at = ?, last_error = ?, timing = COALESCE(?, timing), lease_token = NULL, lease_until = NULL WHERE id = ?",
          )
          .run(until, error, timing ? JSON.stringify(timing) : null, lease.recipient.id);
        return true;
      }) ?? false
    );
  }

  async leaseScan(req: { now: number; leaseMs: number; limit: number }): Promise<ScanLease[]> {
    return withoutSync(this.db, () => this.leaseScanTx.immediate(req));
  }

  /** The body of `leaseScan`, inside its transaction. */
  private takeScanLeases(req: { now: number; leaseMs: number; limit: number }): ScanLease[] {
    const rows = awaitingScan(this.db, req.now, req.limit);
    const upd = this.stmt('UPDATE queue_messages SET scan_token = ?, scan_until = ? WHERE id = ?');
    const until = req.now + req.leaseMs;
    return rows.map((m) => {
      const token = newToken();
      upd.run(token, until, m.id);
      return { token, until, message: toQueueMessage(m) };
    });
  }

  /**
   * Stored without a sync of its own (withoutSync): a scan result lost in a
   * power failure leaves its entry waiting for a scan, and it is scanned
   * again (the scan is leased and repeatable). What follows it on the way
   * to a mailbox (the delivery's commit, or an enqueued notice) is synced,
   * and the WAL keeps commit order, so that sync covers the result too.
   */
  async finishScan(lease: ScanLease, o: ScanOutcome): Promise<boolean> {
    return withoutSync(this.db, () => this.finishScanOneTx.immediate({ lease, outcome: o }) !== false);
  }

  /**
   * All in one IMMEDIATE transaction, each in its own savepoint, as in
   * `deliverLocalMany`; not synced, as `finishScan` (nor are the leases
   * handed off: a lease lost in a power failure is only taken again).
   */
  async finishScanMany(items: readonly { lease: ScanLease; outcome: ScanOutcome }[], handOff?: LeaseHandOff): Promise<ScanStored[]> {
    const out = withoutSync(this.db, () => this.finishScanManyTx.immediate(items.map((it) => ({ ...it, handOff }))));
    return out.map((r) => (Array.isArray(r) ? { leases: r } : r));
  }

  /** The body of `finishScan`, inside the caller's transaction: false (lease lost), true, or the leases handed off. */
  private finishScanInTx(lease: ScanLease, o: ScanOutcome, handOff?: LeaseHandOff): boolean | Lease[] {
    const m = this.stmt('SELECT * FROM queue_messages WHERE id = ? AND scan_token = ?').get(lease.message.id, lease.token) as
      | QueueMessageRow
      | undefined;
    if (!m) return false;
    const verdicts = [...(JSON.parse(m.verdicts) as unknown[]), ...o.verdicts];
    // A stage's meta (e.g. a TLS floor) is stored with the outcome, in this transaction.
    const meta = o.meta ? JSON.stringify({ ...(JSON.parse(m.meta) as Record<string, unknown>), ...o.meta }) : m.meta;
    this.stmt('UPDATE queue_messages SET verdicts = ?, meta = ?, scan_token = NULL, scan_until = NULL, blob_id = ?, size = ? WHERE id = ?')
      .run(JSON.stringify(verdicts), meta, o.blob?.id ?? m.blob_id, o.blob?.size ?? m.size, m.id);
    if (o.next === 'deliver') {
      // The hand-off's recipients go from `scanning` straight to leased, as `lease` leases them; the rest are queued.
      const handed = handOff
        ? (this.stmt("SELECT * FROM queue_recipients WHERE queue_id = ? AND state = 'scanning' AND transport = ? ORDER BY id").all(m.id, handOff.transport) as RecipientRow[])
        : [];
      this.stmt("UPDATE queue_recipients SET state = 'queued', next_attempt_at = ? WHERE queue_id = ? AND state = 'scanning' AND transport IS NOT ?").run(
        o.now,
        m.id,
        handOff?.transport ?? null,
      );
      if (handOff) {
        const message = toQueueMessage({ ...m, verdicts: JSON.stringify(verdicts), meta, blob_id: o.blob?.id ?? m.blob_id, size: o.blob?.size ?? m.size });
        return this.leaseRows(handed, o.now, handOff.leaseMs, o.now, () => message);
      }
    } else {
      const rcpts = preparedPluck(this.db, "SELECT address FROM queue_recipients WHERE queue_id = ? AND state = 'scanning' ORDER BY id").all(m.id) as string[];
      this.stmt("UPDATE queue_recipients SET state = 'held' WHERE queue_id = ? AND state = 'scanning'").run(m.id);
      quarantineInTx(this.db, { ...o.next.quarantine, queueId: m.id, at: o.now, sender: m.sender, size: o.blob?.size ?? m.size, recipients: rcpts });
    }
    return true;
  }

  async deferScan(lease: ScanLease, until: number, error: string): Promise<boolean> {
    return this.db.transaction(() => {
      const r = this.stmt('UPDATE queue_messages SET scan_token = NULL, scan_until = ? WHERE id = ? AND scan_token = ?').run(until, lease.message.id, lease.token);
      if (r.changes !== 1) return false;
      this.stmt("UPDATE queue_recipients SET last_error = ?, attempts = attempts + 1 WHERE queue_id = ? AND state = 'scanning'").run(error, lease.message.id);
      return true;
    }).immediate();
  }

  async getMessage(queueId: string): Promise<QueueMessage | null> {
    const r = this.stmt('SELECT * FROM queue_messages WHERE id = ?').get(queueId) as QueueMessageRow | undefined;
    return r ? toQueueMessage(r) : null;
  }

  async listRecipients(queueId: string): Promise<QueueRecipient[]> {
    return (this.stmt('SELECT * FROM queue_recipients WHERE queue_id = ? ORDER BY id').all(queueId) as RecipientRow[]).map(
      toRecipient,
    );
  }

  async oldestAge(now = Date.now()): Promise<number | null> {
    return oldestAge(this.db, now);
  }

  async listPending(limit = 1000): Promise<QueueRecipient[]> {
    return (
      this.stmt("SELECT * FROM queue_recipients WHERE state NOT IN ('delivered','failed') ORDER BY queue_id, id LIMIT ?")
        .all(limit) as RecipientRow[]
    ).map(toRecipient);
  }

  async hold(queueId: string): Promise<number> {
    return this.stmt("UPDATE queue_recipients SET state = 'held' WHERE queue_id = ? AND state IN ('queued','deferred')")
      .run(queueId).changes;
  }

  async release(queueId: string, now: number): Promise<number> {
    return this.stmt("UPDATE queue_recipients SET state = 'queued', next_attempt_at = ? WHERE queue_id = ? AND state = 'held'")
      .run(now, queueId).changes;
  }

  async retryNow(queueId: string, now: number): Promise<number> {
    return this.stmt("UPDATE queue_recipients SET next_attempt_at = ? WHERE queue_id = ? AND state IN ('queued','deferred')")
      .run(now, queueId).changes;
  }

  async deleteMessage(queueId: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.stmt('DELETE FROM queue_recipients WHERE queue_id = ?').run(queueId);
      return this.stmt('DELETE FROM queue_messages WHERE id = ?').run(queueId).changes > 0;
    })();
  }

  async stats(): Promise<QueueStats> {
    const states = this.stmt(
        "SELECT state, COUNT(DISTINCT queue_id) AS messages, COUNT(*) AS recipients FROM queue_recipients WHERE state NOT IN ('delivered','failed') GROUP BY state ORDER BY state",
      )
      .all() as { state: RecipientState; messages: number; recipients: number }[];
    const r = this.stmt(
        "SELECT COUNT(*) AS recipients, COUNT(DISTINCT r.queue_id) AS messages, MIN(m.received_at) AS oldest FROM queue_recipients r JOIN queue_messages m ON m.id = r.queue_id WHERE r.state NOT IN ('delivered','failed')",
      )
      .get() as { recipients: number; messages: number; oldest: number | null };
    return { messages: r.messages, recipients: r.recipients, oldestReceivedAt: r.oldest, states };
  }

  async purgeFinished(): Promise<number> {
    const purge = this.stmt(
      `DELETE FROM queue_messages WHERE NOT EXISTS (
         SELECT 1 FROM queue_recipients r WHERE r.queue_id = queue_messages.id AND r.state NOT IN ('delivered','failed'))`,
    );
    // Rows a power loss brings back are purged the next time.
    return withoutSync(this.db, () => purge.run().changes);
  }
}

/**
 * Up to `limit` recipients of a transport to lease, oldest due first: those
 * queued or deferred and due, and those whose lease expired. Three ranges of
 * index queue_recipients_due, each read in the index's own order (next
 * attempt, then id, the rowid every index entry ends with) and merged here:
 * one query over the three sorted its rows in a temporary b-tree, which
 * cost more than the lookups themselves (about 90 against 20 µs on an
 * almost empty queue), and a lease is taken after every release. An OR of
 * the ranges would read every recipient of the transport, those waiting
 * for a scan or delivered and not yet purged included.
 */
export function dueRecipients(db: Db, req: Pick<LeaseRequest, 'transport' | 'now' | 'limit'>): RecipientRow[] {
  const due = prepared(db, 'SELECT * FROM queue_recipients WHERE transport = ? AND state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?');
  const expired = prepared(
    db,
    "SELECT * FROM queue_recipients WHERE transport = ? AND state = 'leased' AND lease_until <= ? ORDER BY next_attempt_at, id LIMIT ?",
  );
  const rows = [
    ...(due.all(req.transport, 'queued', req.now, req.limit) as RecipientRow[]),
    ...(due.all(req.transport, 'deferred', req.now, req.limit) as RecipientRow[]),
    ...(expired.all(req.transport, req.now, req.limit) as RecipientRow[]),
  ];
  if (rows.length <= 1) return rows;
  rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.id - b.id);
  return rows.slice(0, req.limit);
}

/**
 * Up to `limit` entries waiting for a scan whose scan is not leased (or the
 * lease expired), oldest queue id first (ids start with their time). Driven
 * by the recipients waiting for a scan, in the order of index
 * queue_recipients_state (state, queue_id), read only as far as the limit;
 * entries under a scan lease are skipped inside the one query, which stays
 * cheap with thousands leased. An EXISTS per entry would cost the whole
 * queue, and sorting by arrival every entry waiting for a scan.
 */
export function awaitingScan(db: Db, now: number, limit: number): QueueMessageRow[] {
  return prepared(
    db,
    `SELECT q.* FROM queue_recipients r JOIN queue_messages q ON q.id = r.queue_id
     WHERE r.state = 'scanning' AND (q.scan_until IS NULL OR q.scan_until <= ?)
     GROUP BY r.queue_id ORDER BY r.queue_id LIMIT ?`,
  ).all(now, limit) as QueueMessageRow[];
}
