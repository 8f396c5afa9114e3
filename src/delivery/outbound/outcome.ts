/**
 * Applies the results of delivery attempts to the queue: delivered,
 * deferred with backoff (failed once the queue lifetime is over), or failed.
 * Failures are collected per message and returned to the sender as one
 * delivery status notification when the message's last job of the pass ends;
 * the DSN is queued before the recipients are marked failed, so a crash in
 * between can repeat a bounce but never lose one. A message from the null
 * sender is never bounced, and a recipient whose NOTIFY leaves out failures
 * (RFC 3461) fails silently. A recipient still deferred `delayWarningMs`
 * after arrival gets one delay warning (NOTIFY=DELAY or no NOTIFY); a
 * success notice goes out for NOTIFY=SUCCESS when the peer could not take the
 * request on (no DSN offered: "relayed"). A store that fails while an outcome is recorded
 * never throws out of here: the failure is logged and recorded as a
 * `delivery.error` event, and the recipient stays leased until its lease
 * expires and it is tried again.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../metrics/logger.js';
import type { BlobStore, DeliveryTiming, EventRepo, Lease, QueueMessage, QueueRepo } from '../../store/types.js';
import { backoffMs, type Spool } from '../../queue/spool.js';
import type { FailedRecipient } from './dsn.js';
import { DsnSender, type BounceRouter } from '../dsn-sender.js';
import type { OutboundStats } from './report.js';
import { reportFailure } from '../failure.js';

export type { BounceRouter } from '../dsn-sender.js';

export interface OutcomeDeps {
  readonly queue: QueueRepo;
  readonly blobs: BlobStore;
  readonly events: EventRepo;
  readonly spool: Spool;
  readonly routeBounce: BounceRouter;
  readonly clock: Clock;
  readonly log: Logger;
  readonly stats: OutboundStats;
  readonly reportingMta: string;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly maxLifetimeMs: number;
  /** A recipient still deferred this long after arrival gets one delay warning; 0: never. */
  readonly delayWarningMs?: number;
}

interface Pending {
  message: QueueMessage;
  open: number;
  failed: { lease: Lease; f: FailedRecipient; timing?: DeliveryTiming }[];
}

export function formatTiming(m: QueueMessage, lease: Lease, t: DeliveryTiming | undefined, now: number): Record<string, unknown> {
  const a = (lease.recipient.leasedAt ?? now) - m.receivedAt;
  const b = t?.waitMs ?? 0;
  const c = t?.connMs ?? 0;
  const d = t?.xmitMs ?? 0;
  const s = (ms: number) => (ms / 1000).toFixed(2);
  return { delay: s(now - m.receivedAt), delays: `${s(a)}/${s(b)}/${s(c)}/${s(d)}`, relay: t?.relay ?? null, tls: t?.tls ?? null };
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

export class OutcomeRecorder {
  private readonly pending = new Map<string, Pending>();

  private readonly notices: DsnSender;

  constructor(private readonly d: OutcomeDeps) {
    this.notices = new DsnSender(d);
  }

  open(message: QueueMessage): void {
    const p = this.pending.get(message.id);
    if (p) p.open++;
    else this.pending.set(message.id, { message, open: 1, failed: [] });
  }

  /** `peer.passedOn`: the peer offered DSN and took the request on, so any success notice is its to send. */
  async delivered(lease: Lease, reply: string, timing?: DeliveryTiming, peer?: { passedOn: boolean; host: string }): Promise<void> {
    const now = this.d.clock.now();
    await this.guard([lease], 'recording a delivery', async () => {
      if (await this.d.queue.complete(lease, now, reply, timing)) {
        this.d.stats.delivered++;
        this.log(lease).info({ status: 'sent', reply, ...formatTiming(lease.message, lease, timing, now) }, 'delivered');
        // C: the share of outbound mail that crossed the network encrypted, and how it was verified.
        const parts = (timing?.tls ?? 'none').split(' ');
        const verified = parts.find((p) => p.startsWith('verified='))?.slice('verified='.length) ?? 'none';
        // Not awaited into the outcome: the delivery is recorded; a lost event must not turn it into a failure.
        void this.d.events.record('relay.message', lease.message.id, { tls: parts[0] ?? 'none', verified, domain: domainOf(lease.recipient.address) }, now).catch(() => undefined);
        if (peer && !peer.passedOn) await this.notice(lease, 'success', 'relayed', '2.0.0', reply, peer.host);
      }
    });
  }

  /** One notice about one recipient, when its NOTIFY wants it; a failure is reported, never thrown. */
  private async notice(lease: Lease, kind: 'success' | 'delay', action: 'relayed' | 'delayed', status: string, diagnostic: string, remoteMta: string | null): Promise<boolean> {
    const m = lease.message;
    const r = { address: lease.recipient.address, status, diagnostic, remoteMta, lastAttemptAt: this.d.clock.now(), action };
    if (this.notices.wanted(m, kind, [r]).length === 0) return false;
    try {
      const id = await this.notices.send(m, kind, [r]);
      this.log(lease).info({ dsn: id, action }, id ? `${action}; sender notified` : `${action}; sender unreachable, not notified`);
      return true;
    } catch (e) {
      await reportFailure(this.d, m.id, `queueing a ${kind} notice`, e, { queueId: m.id });
      return false;
    }
  }

  /** The first deferral past delayWarningMs queues a warning; an event marks it sent, so there is only one. */
  private async warnDelay(lease: Lease, status: string, reason: string, remoteMta: string | null, now: number): Promise<void> {
    const after = this.d.delayWarningMs ?? 0;
    const m = lease.message;
    if (after <= 0 || now - m.receivedAt < after || this.notices.wanted(m, 'delay', [lease.recipient]).length === 0) return;
    const subject = `${m.id}/${lease.recipient.id}`;
    try {
      const sent = await this.d.events.list('delivery.delay_warning', 10_000, m.receivedAt);
      if (sent.some((e) => e.subject === subject)) return;
    } catch (e) {
      return void (await reportFailure(this.d, m.id, 'looking up a delay warning', e, { queueId: m.id }));
    }
    if (await this.notice(lease, 'delay', 'delayed', status, reason, remoteMta)) {
      // Recorded after the warning is queued: a crash in between can repeat a warning, never lose one.
      await this.d.events.record('delivery.delay_warning', subject, {}, now).catch((e: unknown) => reportFailure(this.d, m.id, 'recording a delay warning', e, { queueId: m.id }));
    }
  }

  async deferred(lease: Lease, status: string, reason: string, timing?: DeliveryTiming, remoteMta: string | null = null): Promise<void> {
    const now = this.d.clock.now();
    if (now - lease.message.receivedAt >= this.d.maxLifetimeMs) {
      return this.failed(lease, '5.4.7', `delivery time expired; last error: ${reason}`, remoteMta, timing);
    }
    const until = now + backoffMs(lease.recipient.attempts, this.d.retryMinMs, this.d.retryMaxMs);
    await this.guard([lease], 'deferring', async () => {
      if (await this.d.queue.defer(lease, until, `${status} ${reason}`, timing)) {
        this.d.stats.deferred++;
        this.log(lease).warn({ status: 'deferred', reason, retryAt: new Date(until).toISOString(), ...formatTiming(lease.message, lease, timing, now) }, 'deferred');
        await this.warnDelay(lease, status, reason, remoteMta, now);
      }
    });
  }

  /** Collected; applied with the bounce when the message's last open job closes. */
  async failed(lease: Lease, status: string, reason: string, remoteMta: string | null, timing?: DeliveryTiming): Promise<void> {
    const p = this.pending.get(lease.message.id);
    const entry = { lease, f: { address: lease.recipient.address, status, diagnostic: reason, remoteMta, lastAttemptAt: this.d.clock.now() }, ...(timing ? { timing } : {}) };
    if (p) p.failed.push(entry);
    else await this.guard([lease], 'bouncing', () => this.bounce(lease.message, [entry]));
  }

  async close(message: QueueMessage): Promise<void> {
    const p = this.pending.get(message.id);
    if (!p || --p.open > 0) return;
    this.pending.delete(message.id);
    if (p.failed.length > 0) {
      const failed = p.failed;
      await this.guard(
        failed.map((x) => x.lease),
        'bouncing',
        () => this.bounce(p.message, failed),
      );
    }
  }

  /** Runs a store write; a failure leaves the leases to expire and be retried, and is reported, never thrown. */
  private async guard(leases: readonly Lease[], what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      const m = leases[0]?.message;
      await reportFailure(this.d, m?.id ?? '', what, e, { queueId: m?.id ?? null, recipients: leases.map((l) => l.recipient.address) });
    }
  }

  private async bounce(m: QueueMessage, failed: Pending['failed']): Promise<void> {
    const now = this.d.clock.now();
    let dsnId: string | null = null;
    // Only recipients whose NOTIFY asks for failures are reported (none for the null sender).
    const reported = this.notices.wanted(m, 'failure', failed.map((x) => x.f));
    try {
      dsnId = await this.notices.send(m, 'failure', reported);
      if (dsnId) this.d.stats.bounces++;
    } catch (e) {
      // Could not route or queue the bounce: keep the recipients and try again later.
      await reportFailure(this.d, m.id, 'queueing a bounce', e, { queueId: m.id });
      for (const x of failed) await this.guard([x.lease], 'deferring a bounce', () => this.d.queue.defer(x.lease, now + this.d.retryMinMs, `${x.f.status} ${x.f.diagnostic}`, x.timing).then(() => undefined));
      return;
    }
    // The bounce is queued: a recipient whose mark fails here is retried and may be bounced twice, never lost.
    for (const x of failed) {
      const why = m.sender === '' ? 'failed; no bounce for the null sender' : !reported.includes(x.f) ? 'failed; no bounce (NOTIFY)' : 'failed; returned to sender';
      await this.guard([x.lease], 'marking a recipient failed', async () => {
        if (await this.d.queue.fail(x.lease, now, `${x.f.status} ${x.f.diagnostic}`, x.timing)) {
          this.d.stats.failed++;
          this.log(x.lease).warn({ status: 'bounced', reason: x.f.diagnostic, dsn: reported.includes(x.f) ? dsnId : null, ...formatTiming(m, x.lease, x.timing, now) }, why);
        }
      });
    }
  }

  private log(lease: Lease): Logger {
    return this.d.log.child({ queueId: lease.message.id, rcpt: lease.recipient.address });
  }
}
