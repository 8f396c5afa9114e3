/**
 * Queues delivery status notifications (RFC 3464) to a message's sender: the
 * one place that decides whether a notice is wanted (NOTIFY, RFC 3461 4.1;
 * never to the null sender, RFC 5321 4.5.5) and hands it to the spool from
 * the null sender, so a notice is never itself answered by one. Used for
 * failures (bounces), delays (warnings) and successes (delivered, relayed).
 */
import { newQueueId } from '../core/ids.js';
import type { Clock } from '../core/clock.js';
import type { BlobStore, NewRecipient, QueueMessage } from '../store/types.js';
import type { Spool } from '../queue/spool.js';
import { dsnOf, rcptDsn, wants, type NotifyOn } from '../queue/dsn-meta.js';
import { buildDsn, type DsnKind, type FailedRecipient } from './outbound/dsn.js';

/** Where a notice to this address goes (local mailbox or remote queue); null: nowhere. */
export type BounceRouter = (address: string) => Promise<NewRecipient | null>;

export interface DsnSenderDeps {
  readonly spool: Spool;
  readonly blobs: BlobStore;
  readonly routeBounce: BounceRouter;
  readonly clock: Clock;
  readonly reportingMta: string;
}

const ON: Record<DsnKind, NotifyOn> = { failure: 'FAILURE', delay: 'DELAY', success: 'SUCCESS' };

export class DsnSender {
  constructor(private readonly d: DsnSenderDeps) {}

  /** The recipients of `m` whose NOTIFY asks for a notice of this kind (none for the null sender). */
  wanted<T extends { address: string }>(m: QueueMessage, kind: DsnKind, recipients: readonly T[]): T[] {
    if (m.sender === '') return [];
    const req = dsnOf(m.meta);
    return recipients.filter((r) => wants(rcptDsn(req, r.address), ON[kind]));
  }

  /**
   * Queues one notice about `recipients` (already filtered by `wanted`).
   * Returns its queue id, or null when there is nowhere to send it. Throws
   * when the route lookup or the spool fails (the caller retries).
   */
  async send(m: QueueMessage, kind: DsnKind, recipients: readonly FailedRecipient[]): Promise<string | null> {
    if (m.sender === '' || recipients.length === 0) return null;
    const to = await this.d.routeBounce(m.sender);
    if (!to) return null;
    const now = this.d.clock.now();
    const req = dsnOf(m.meta);
    const original = await this.d.blobs.get(m.blobId).catch(() => new Uint8Array(0));
    const failed = recipients.map((f) => {
      const r = rcptDsn(req, f.address);
      return r.orcpt !== undefined ? { ...f, orcpt: { type: r.orcptType ?? 'rfc822', address: r.orcpt } } : f;
    });
    const data = buildDsn({ reportingMta: this.d.reportingMta, queueId: m.id, sender: m.sender, arrivalAt: m.receivedAt, originalMessage: original, failed, now, kind, ...(req.envid !== undefined ? { envid: req.envid } : {}) });
    const id = newQueueId(now);
    await this.d.spool.accept({
      queueId: id,
      data,
      sender: '', // a notice is never answered by another
      recipients: [to],
      source: 'local',
      clientAddress: '127.0.0.1',
      authUser: null,
      meta: { dsnFor: m.id, ...(m.meta.requireTls === true ? { requireTls: true } : {}) },
    });
    return id;
  }
}
