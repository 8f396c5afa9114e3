/**
 * The after-queue phase: takes entries waiting in `scanning`, runs the
 * after-queue policy stages on their stored bytes and lets them go on to
 * delivery, into quarantine, or back to wait (a stage failed closed). The
 * scan is leased: a crash mid-scan leaves the lease to expire and the entry
 * is scanned again, so nothing is delivered unscanned.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../metrics/logger.js';
import type { PolicyPipeline } from '../policy/pipeline/index.js';
import { directionOf } from '../policy/pipeline/index.js';
import type { BlobStore, Lease, LeaseHandOff, QueueRepo, ScanLease, ScanOutcome, ScanStored, Transport } from '../store/types.js';
import { backoffMs } from '../queue/spool.js';
import { HandedLeases } from './handed.js';
import { LeaseWindow } from './window.js';

export interface ScannerOptions {
  /**
   * Entries under scan at once (\`batch\` × \`parallel\`): enough to keep the
   * pool's threads busy, few enough that a crash strands few. A new entry is
   * leased as soon as one of them is done, not when a whole batch is.
   */
  batch: number;
  /** How long one scan may hold an entry before another scanner (or this one, after a crash) takes it again. */
  leaseMs: number;
  pollMs: number;
  parallel?: number;
  retryMinMs: number;
  retryMaxMs: number;
}

/** A scan done, its result not yet stored. */
interface Scanned {
  lease: ScanLease;
  log: Logger;
  summary: string[];
  outcome: ScanOutcome;
  /** The transports of the recipients the scan was for (what its release wakes). */
  transports: ReadonlySet<Transport>;
}

/** A delivery agent that takes its transport's recipients already leased, as their scan results are stored. */
export interface LeaseTaker extends LeaseHandOff {
  adopt(leases: readonly Lease[]): void;
}

export class PolicyScanner {
  private readonly window: LeaseWindow<ScanLease, Scanned>;
  private readonly delivered = new Set<(transports: ReadonlySet<Transport>) => void>();
  private taker: LeaseTaker | null = null;
  /** Scans the spool hands over as it stores their entries (`adopt`), and the store's. */
  private readonly leases: HandedLeases<ScanLease>;

  constructor(
    private readonly queue: QueueRepo,
    private readonly blobs: BlobStore,
    private readonly pipeline: PolicyPipeline,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: ScannerOptions,
  ) {
    this.leases = new HandedLeases(opts.pollMs, (now, limit) => this.queue.leaseScan({ now, leaseMs: this.opts.leaseMs, limit }));
    this.window = new LeaseWindow(
      {
        lease: (limit) => this.leases.take(this.clock.now(), limit),
        work: (lease) => this.scan(lease),
        commit: (scanned) => this.commit(scanned),
      },
      opts.batch * (opts.parallel ?? 1),
      opts.pollMs,
      log,
      'policy scan',
    );
  }

  /**
   * Called after entries became deliverable (so delivery need not wait for
   * its next poll), with the transports of their recipients: an agent with
   * nothing released is not woken to find nothing.
   */
  onReleased(fn: (transports: ReadonlySet<Transport>) => void): void {
    this.delivered.add(fn);
  }

  /**
   * Leases the recipients of the taker's transport in the transaction that
   * stores their scan result and hands them over (`adopt`): the agent does
   * not lease them again, one store transaction and its queries fewer per
   * message. Null stops it.
   */
  handOffTo(taker: LeaseTaker | null): void {
    this.taker = taker;
  }

  start(): void {
    this.window.start();
  }

  kick(): void {
    this.leases.due();
    this.window.kick();
  }

  /** How long a scan lease handed over by the spool runs (as this scanner's own). */
  get leaseMs(): number {
    return this.opts.leaseMs;
  }

  /** Takes a scan the spool leased to this scanner as it stored the entry (Spool.handScansTo), and starts on it. */
  adopt(lease: ScanLease): void {
    this.leases.add([lease]);
    this.window.kick();
  }

  async stop(): Promise<void> {
    this.window.halt();
    await this.window.idle;
  }

  /** Scans everything waiting (started or not); returns how many entries were handled. */
  pass(): Promise<number> {
    this.leases.due();
    return this.window.drain();
  }

  /** Stores scan results together; delivery starts on them at once, not after the scanner has caught up. */
  private async commit(scanned: Scanned[]): Promise<void> {
    const released = await this.store(scanned);
    if (released.size > 0) for (const fn of this.delivered) fn(released);
  }

  /** Stores a batch's results in one store call; returns the transports of the recipients that went on to delivery. */
  private async store(scanned: Scanned[]): Promise<Set<Transport>> {
    const released = new Set<Transport>();
    if (scanned.length === 0) return released;
    const taker = this.taker;
    let results: ScanStored[];
    try {
      const handOff = taker ? { transport: taker.transport, leaseMs: taker.leaseMs } : undefined;
      results = await this.queue.finishScanMany(
        scanned.map((x) => ({ lease: x.lease, outcome: x.outcome })),
        handOff,
      );
    } catch (error) {
      results = scanned.map(() => ({ error }));
    }
    const leases: Lease[] = [];
    for (const [i, x] of scanned.entries()) {
      const r = results[i];
      const handed = typeof r === 'object' && 'leases' in r;
      if (handed) leases.push(...r.leases);
      if (r === true || handed) {
        // Only the scanner whose result was stored tells of it (a lost lease is scanned, and told, again).
        this.pipeline.notify(x.lease.message.id, x.outcome.verdicts);
        x.log.info({ policy: x.summary, next: x.outcome.next === 'deliver' ? 'deliver' : 'quarantine' }, 'policy scan done');
        if (x.outcome.next === 'deliver') for (const t of x.transports) released.add(t);
      } else if (r === false || r === undefined) {
        x.log.warn('policy scan lease lost; another scanner has the entry');
      } else {
        // The store failed: the lease expires and the entry is scanned again.
        x.log.error({ err: r.error instanceof Error ? r.error.message : String(r.error) }, 'policy scan failed; left to a retry');
      }
    }
    if (taker && leases.length > 0) taker.adopt(leases);
    return released;
  }

  /** Scans one entry; its result to store, or null (deferred, or failed: the lease expires). Never throws. */
  private async scan(lease: ScanLease): Promise<Scanned | null> {
    const m = lease.message;
    const log = this.log.child({ queueId: m.id });
    try {
      const rcpts = await this.queue.listRecipients(m.id);
      const raw = await this.blobs.get(m.blobId);
      const meta = m.meta;
      const listener = m.source === 'mx' ? 'mx' : m.source === 'local' ? 'local' : ((meta.listener as 'submission' | 'submissions' | undefined) ?? 'submission');
      const decision = await this.pipeline.afterQueue(
        {
          queueId: m.id,
          raw,
          envelope: {
            sender: m.sender,
            recipients: Array.isArray(meta.rcptTo) ? meta.rcptTo.filter((x): x is string => typeof x === 'string') : rcpts.map((r) => r.address),
            helo: typeof meta.helo === 'string' ? meta.helo : null,
            clientAddress: m.clientAddress,
            listener,
            authUser: m.authUser,
            tls: meta.tls !== null && meta.tls !== undefined,
          },
          direction: directionOf(listener, rcpts.some((r) => r.transport === 'remote')),
        },
        m.verdicts,
        meta,
      );
      const now = this.clock.now();
      const summary = decision.verdicts.map((v) => `${v.stage}=${v.action}`);
      if (decision.kind === 'retry') {
        const attempts = Math.max(1, ...rcpts.map((r) => r.attempts + 1));
        // At least a second: a pass must not take the same failing entry again at once.
        await this.queue.deferScan(lease, now + Math.max(1000, backoffMs(attempts, this.opts.retryMinMs, this.opts.retryMaxMs)), decision.error);
        log.warn({ err: decision.error, policy: summary }, 'policy scan deferred');
        return null;
      }
      const blob = decision.data ? await this.blobs.put(decision.data) : undefined;
      const stageMeta = Object.keys(decision.meta).length > 0 ? { meta: decision.meta } : {};
      const transports = new Set(rcpts.filter((r) => r.state === 'scanning').map((r) => r.transport));
      return { lease, log, summary, outcome: { verdicts: decision.verdicts, next: decision.next, now, blob, ...stageMeta }, transports };
    } catch (e) {
      // The store or the blob failed: the lease expires and the entry is scanned again.
      log.error({ err: e instanceof Error ? e.message : String(e) }, 'policy scan failed; left to a retry');
      return null;
    }
  }
}
