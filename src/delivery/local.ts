import type { Logger } from '../metrics/logger.js';
import type { Clock } from '../core/clock.js';
import type { MailboxRepo, QueueRepo } from '../store/types.js';
import { inboxOf, junkOf } from '../mailbox/provision.js';
import type { MailboxNotifier } from '../mailbox/notify.js';
import { fitsQuota } from '../mailbox/quota.js';
import type { BlobStore, DirectoryRepo, EventRepo } from '../store/types.js';
import { cacheMessage } from '../mailbox/header-cache.js';
import { backoffMs } from '../queue/spool.js';
import { Pump } from './pump.js';
import { reportFailure } from './failure.js';

export interface LocalDeliveryOptions {
  batch: number;
  leaseMs: number;
  pollMs: number;
  retryMinMs: number;
  retryMaxMs: number;
  maxLifetimeMs: number;
}

/**
 * Moves queued mail for local accounts into their INBOX. Each delivery is one
 * store transaction (append + mark delivered), so a crash at any point leaves
 * the message either still queued or delivered, never both, never neither.
 */
export class LocalDelivery {
  private readonly pump: Pump;

  constructor(
    private readonly queue: QueueRepo,
    private readonly mailboxes: MailboxRepo,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: LocalDeliveryOptions,
    private readonly directory?: DirectoryRepo,
    private readonly notifier?: MailboxNotifier,
    /** When given, each newly delivered message's headers are cached for IMAP SEARCH and FETCH. */
    private readonly blobs?: BlobStore,
    /** Where failures left to a retry are recorded (`delivery.error`). */
    private readonly events?: EventRepo,
  ) {
    this.pump = new Pump(() => this.pass(), opts.pollMs, log, 'local delivery', (e) => this.failure('local delivery pass', e));
  }

  private async failure(what: string, e: unknown, data: Record<string, unknown> = {}): Promise<void> {
    if (this.events) await reportFailure({ log: this.log, events: this.events, clock: this.clock }, String(data.queueId ?? 'local'), what, e, data);
    else this.log.error({ err: e, what, ...data }, `${what} failed; left to a retry`);
  }

  start(): void {
    this.pump.start();
  }

  /** Runs a pass now (or right after the current one). */
  kick(): void {
    this.pump.kick();
  }

  async stop(): Promise<void> {
    this.pump.halt();
    await this.pump.idle;
  }

  /** Best effort: a message without a cache entry is simply parsed on its first SEARCH. */
  private async cacheHeaders(blobId: string, log: Logger): Promise<void> {
    if (!this.blobs) return;
    try {
      if ((await this.mailboxes.getHeaderCache([blobId], false)).length > 0) return;
      await cacheMessage(this.mailboxes, blobId, await this.blobs.get(blobId));
    } catch (e) {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'header cache not filled');
    }
  }

  /** One pass: delivers everything due; returns how many recipients were handled. */
  async pass(): Promise<number> {
    let handled = 0;
    for (;;) {
      const leases = await this.queue.lease({ transport: 'local', now: this.clock.now(), leaseMs: this.opts.leaseMs, limit: this.opts.batch });
      if (leases.length === 0) break;
      for (const lease of leases) {
        const log = this.log.child({ queueId: lease.message.id, rcpt: lease.recipient.address });
        const now = this.clock.now();
        try {
          if (lease.recipient.accountId === null) throw new Error('local recipient without an account');
          const account = this.directory ? await this.directory.getAccountById(lease.recipient.accountId) : null;
          if (account && !(await fitsQuota(this.mailboxes, account, lease.message.size))) throw new Error('mailbox over quota');
          // A policy stage (e.g. DMARC p=quarantine) may ask for the recipient's Junk folder.
          const junk = lease.message.verdicts.some((v) => v.junk === true);
          const folder = junk ? await junkOf(this.mailboxes, lease.recipient.accountId, now) : await inboxOf(this.mailboxes, lease.recipient.accountId, now);
          const r = await this.queue.deliverLocal(lease, folder.id, now);
          if (r) this.notifier?.changed(folder.id);
          if (r) await this.cacheHeaders(lease.message.blobId, log);
          if (r) log.info({ folder: folder.name, uid: r.uid, delay: now - lease.message.receivedAt }, 'delivered');
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          try {
            if (now - lease.message.receivedAt > this.opts.maxLifetimeMs) {
              await this.queue.fail(lease, now, msg);
              log.error({ err: msg }, 'local delivery failed permanently');
            } else {
              await this.queue.defer(lease, now + backoffMs(lease.recipient.attempts, this.opts.retryMinMs, this.opts.retryMaxMs), msg);
              log.warn({ err: msg }, 'local delivery deferred');
            }
          } catch (e2) {
            // The store failed twice: the lease expires and the recipient is tried again.
            await this.failure('recording a local delivery failure', e2, { queueId: lease.message.id, rcpt: lease.recipient.address });
          }
        }
        handled++;
      }
    }
    if (handled > 0) await this.queue.purgeFinished();
    return handled;
  }
}
