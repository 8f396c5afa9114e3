/**
 * Keeps a job's recipients leased while its transaction runs. A lease must
 * not expire under a transfer that is still making progress: another
 * attempt would take the recipients over and the message would go out
 * twice. So while a job runs, its leases are renewed every third of the
 * lease time. Before the final "." that commits the message, `held()` says
 * whether every lease is still ours with time to spare; if not, the
 * connection is dropped instead and the peer discards the message.
 */
import type { Clock } from '../../core/clock.js';
import type { Lease, QueueRepo } from '../../store/types.js';
import { reportFailure, type FailureSink } from '../failure.js';

export class LeaseKeeper {
  private timer: NodeJS.Timeout | null = null;
  private lost = false;
  private renewing = false;
  private until: number;
  private reported = false;

  constructor(
    private readonly queue: QueueRepo,
    private readonly leases: readonly Lease[],
    private readonly leaseMs: number,
    private readonly clock: Clock,
    private readonly sink: FailureSink,
  ) {
    this.until = Math.min(...leases.map((l) => l.until));
  }

  start(): this {
    this.timer = setInterval(() => {
      this.renew().catch(() => undefined); // renew reports its own failures
    }, Math.max(250, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Every lease is still ours, with a quarter of the lease time (at most a minute) to spare. */
  held(): boolean {
    return !this.lost && this.clock.now() + Math.min(this.leaseMs / 4, 60_000) < this.until;
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.lost) return;
    this.renewing = true;
    try {
      const until = this.clock.now() + this.leaseMs;
      const ok = await Promise.all(this.leases.map((l) => this.queue.renew(l, until)));
      if (ok.every(Boolean)) this.until = until;
      else this.lost = true; // taken over (it had expired) or finished elsewhere: never commit on it
    } catch (e) {
      // The store failed: keep the old deadline; held() turns false when it comes near.
      if (!this.reported) await reportFailure(this.sink, this.leases[0]?.message.id ?? '', 'renewing a lease', e, { queueId: this.leases[0]?.message.id ?? null });
      this.reported = true;
    } finally {
      this.renewing = false;
    }
  }
}
