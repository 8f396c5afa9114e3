/**
 * Outbound SMTP delivery. Leases `remote` recipients, groups them into jobs
 * (one message to one destination), and runs them on sessions with a limit
 * per destination and in total; a session carries job after job to its
 * destination. A destination that cannot be reached (or whose TLS policy is
 * not met) has its waiting jobs deferred at once. Delivery is at-least-once:
 * a crash after the peer's 250 but before it is recorded sends the message
 * again when the lease expires — as in every MTA.
 */
import { Pump } from '../pump.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../metrics/logger.js';
import type { DnsResolver } from '../../net/dns/types.js';
import type { TlsPolicyResolver } from '../../policy/tls/index.js';
import type { DkimSigner } from '../../policy/dkim/index.js';
import type { Spool } from '../../queue/spool.js';
import type { BlobStore, EventRepo, QueueRepo } from '../../store/types.js';
import { connectDestination, type Connected, type ConnectDeps, type NotConnected, type RelayOptions } from './connect.js';
import { groupLeases, type Job } from './jobs.js';
import { OutcomeRecorder, type BounceRouter } from './outcome.js';
import { eventTlsReporter, OutboundStats } from './report.js';
import { runJob } from './transaction.js';
import { detach, reportFailure } from '../failure.js';
import { LeaseKeeper } from './lease-keeper.js';
import { answeringResolver } from './route.js';

export interface OutboundOptions {
  readonly heloName: string;
  /** Host name in DSNs (Reporting-MTA, MAILER-DAEMON@); default heloName. */
  readonly reportingMta?: string;
  /** Destination port for MX hosts; 25 except in tests. */
  readonly port: number;
  readonly maxConnections: number;
  readonly perDestination: number;
  /** Jobs leased ahead of the sessions that will run them. */
  readonly batch: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly maxLifetimeMs: number;
  /** A recipient still deferred this long after arrival gets one delay warning; 0 or absent: never. */
  readonly delayWarningMs?: number;
  readonly connectTimeoutMs: number;
  /** EHLO, STARTTLS, the TLS handshake, RSET, QUIT; the default of the RFC 5321 deadlines below. */
  readonly commandTimeoutMs: number;
  /** The final reply to the message (DATA termination). */
  readonly dataTimeoutMs: number;
  readonly greetingTimeoutMs?: number;
  readonly mailTimeoutMs?: number;
  readonly rcptTimeoutMs?: number;
  readonly dataInitTimeoutMs?: number;
  readonly dataBlockTimeoutMs?: number;
  /** Transactions on one session before it is closed and a fresh one opened. */
  readonly maxTransactionsPerSession?: number;
  /** How long an idle session stays open for the next job to its destination (default 2 s). */
  readonly sessionIdleMs?: number;
  /** On stop, how long transactions under way may take before their connections are cut (default 10 s). */
  readonly stopGraceMs?: number;
  readonly extraCa?: readonly string[];
  readonly relay?: RelayOptions | null;
}

export interface OutboundDeps {
  readonly queue: QueueRepo;
  readonly blobs: BlobStore;
  readonly events: EventRepo;
  readonly spool: Spool;
  readonly clock: Clock;
  readonly log: Logger;
  readonly resolver: DnsResolver;
  readonly policies: TlsPolicyResolver;
  readonly signer?: DkimSigner | null;
  readonly routeBounce: BounceRouter;
}

/** Finished messages are purged from the queue this often during a long pass, keeping lease queries cheap. */
const PURGE_EVERY = 500;

interface DestState {
  readonly jobs: Job[];
  sessions: number;
  /** Idle sessions waiting for a job (a connection cache, as Postfix keeps one). */
  readonly idle: ((job: Job | undefined) => void)[];
  /** A connection failure, applied to further jobs until `until`. */
  dead: { until: number; failure: NotConnected } | null;
}

export class OutboundDelivery {
  readonly stats = new OutboundStats();
  private readonly dests = new Map<string, DestState>();
  private readonly starved = new Set<string>();
  private readonly outcome: OutcomeRecorder;
  private readonly connectDeps: ConnectDeps;
  private sessions = 0;
  private inflight = 0;
  private wake: (() => void) | null = null;
  /** New mail was queued since the last lease. */
  private fresh = false;
  private finishedSincePurge = 0;
  private readonly open = new Set<Connected>();
  /** Set by stop(): jobs not yet started go back to the queue. */
  private stopping = false;
  private readonly passes: Pump;

  constructor(
    private readonly d: OutboundDeps,
    private readonly o: OutboundOptions,
  ) {
    this.passes = new Pump(() => this.pass(), o.pollMs, d.log, 'outbound delivery', (e) => reportFailure(d, 'outbound', 'outbound delivery pass', e));
    this.outcome = new OutcomeRecorder({
      queue: d.queue,
      blobs: d.blobs,
      events: d.events,
      spool: d.spool,
      routeBounce: d.routeBounce,
      clock: d.clock,
      log: d.log,
      stats: this.stats,
      reportingMta: o.reportingMta ?? o.heloName,
      retryMinMs: o.retryMinMs,
      retryMaxMs: o.retryMaxMs,
      maxLifetimeMs: o.maxLifetimeMs,
      ...(o.delayWarningMs !== undefined ? { delayWarningMs: o.delayWarningMs } : {}),
    });
    const now = () => d.clock.now();
    this.connectDeps = {
      resolver: answeringResolver(d.resolver),
      policies: d.policies,
      report: eventTlsReporter(d.events, this.stats, d.log, d.clock),
      session: {
        heloName: o.heloName,
        connectTimeoutMs: o.connectTimeoutMs,
        commandTimeoutMs: o.commandTimeoutMs,
        dataTimeoutMs: o.dataTimeoutMs,
        ...(o.greetingTimeoutMs ? { greetingTimeoutMs: o.greetingTimeoutMs } : {}),
        ...(o.mailTimeoutMs ? { mailTimeoutMs: o.mailTimeoutMs } : {}),
        ...(o.rcptTimeoutMs ? { rcptTimeoutMs: o.rcptTimeoutMs } : {}),
        ...(o.dataInitTimeoutMs ? { dataInitTimeoutMs: o.dataInitTimeoutMs } : {}),
        ...(o.dataBlockTimeoutMs ? { dataBlockTimeoutMs: o.dataBlockTimeoutMs } : {}),
        now,
      },
      port: o.port,
      ...(o.extraCa ? { extraCa: o.extraCa } : {}),
      now,
    };
  }

  /** Sessions open now, idle ones included. */
  get activeSessions(): number {
    return this.sessions;
  }

  start(): void {
    this.stopping = false;
    this.passes.start();
  }

  /** Runs a pass now (or right after the current one). */
  kick(): void {
    if (this.passes.stopped) return;
    this.fresh = true;
    if (this.passes.running) this.wake?.();
    this.passes.kick();
  }

  /** Finishes the transactions under way; jobs not yet started go back to the queue. */
  async stop(): Promise<void> {
    this.passes.halt();
    this.stopping = true;
    for (const st of this.dests.values()) for (const idle of st.idle.splice(0)) idle(undefined);
    this.wake?.();
    let grace: NodeJS.Timeout | undefined;
    const late = await Promise.race([this.passes.idle.then(() => false), new Promise<boolean>((r) => (grace = setTimeout(() => r(true), this.o.stopGraceMs ?? 10_000)))]);
    clearTimeout(grace);
    // Cut what is still running: those recipients are deferred (or retried after their lease if we die first).
    if (late) for (const c of this.open) c.opened.session.close();
    await this.passes.idle;
  }

  /**
   * Leases and delivers everything due, keeping up to `batch` jobs in hand,
   * until nothing is due and nothing is in flight. Returns the recipients leased.
   */
  async pass(): Promise<number> {
    let leased = 0;
    let more = true; // something may be due
    let lastLease = 0;
    for (;;) {
      if (this.fresh || this.d.clock.now() - lastLease >= this.o.pollMs) more = true;
      this.fresh = false;
      // Refill at the low-water mark only, and only when something may be due: one lease query serves many jobs.
      if (!this.stopping && more && this.inflight <= this.o.batch / 2) {
        lastLease = this.d.clock.now();
        while (this.inflight < this.o.batch) {
          const leases = await this.d.queue.lease({
            transport: 'remote',
            now: this.d.clock.now(),
            leaseMs: this.o.leaseMs,
            limit: this.o.batch - this.inflight,
          });
          if (leases.length === 0) {
            more = false;
            break;
          }
          leased += leases.length;
          for (const job of groupLeases(leases, this.o.relay, (domain) => this.d.policies.levelFor(domain))) await this.dispatch(job);
        }
      }
      if (this.finishedSincePurge >= PURGE_EVERY) {
        this.finishedSincePurge = 0;
        await this.purge();
      }
      if (this.inflight === 0 && (!more || this.stopping)) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => resolve(), this.o.pollMs);
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = null;
    }
    if (leased > 0) await this.purge();
    // Forget destinations with nothing running and no live failure mark.
    const now = this.d.clock.now();
    for (const [k, st] of this.dests) if (st.sessions === 0 && st.jobs.length === 0 && (!st.dead || st.dead.until <= now)) this.dests.delete(k);
    return leased;
  }

  private async dispatch(job: Job): Promise<void> {
    this.outcome.open(job.message);
    let st = this.dests.get(job.dest.key);
    if (!st) this.dests.set(job.dest.key, (st = { jobs: [], sessions: 0, idle: [], dead: null }));
    if (st.dead && st.dead.until > this.d.clock.now()) {
      await this.notConnected(job, st.dead.failure);
      await this.outcome.close(job.message);
      return;
    }
    st.dead = null;
    this.inflight++;
    const idle = st.idle.shift();
    if (idle) return idle(job);
    st.jobs.push(job);
    this.pump(job.dest.key);
  }

  private pump(key: string): void {
    const st = this.dests.get(key);
    if (!st) return;
    while (st.jobs.length > st.sessions && st.sessions < this.o.perDestination) {
      if (this.sessions >= this.o.maxConnections) {
        this.starved.add(key);
        // An idle session elsewhere gives up its slot; its worker's exit pumps the starved.
        for (const other of this.dests.values()) {
          const idle = other.idle.shift();
          if (idle) {
            idle(undefined);
            break;
          }
        }
        return;
      }
      st.sessions++;
      this.sessions++;
      // The worker handles its own failures; detach() reports anything that still escapes instead of crashing.
      detach(this.d, key, 'outbound session', () => this.worker(key, st));
    }
  }

  private async worker(key: string, st: DestState): Promise<void> {
    let conn: Connected | null = null;
    const maxTx = this.o.maxTransactionsPerSession ?? 100;
    try {
      for (;;) {
        let job = st.jobs.shift();
        if (!job && conn && !this.stopping) job = await this.nextJob(st);
        if (!job) break;
        let keeper: LeaseKeeper | null = null;
        try {
          if (this.stopping || this.leaseTooShort(job)) {
            if (this.stopping) await this.putBack(job, 'not attempted: postern stopping');
            continue;
          }
          // Renewed from here to the recorded outcome (connection set-up included), so an attempt that
          // still progresses never outlives its lease and no second attempt starts beside it.
          keeper = new LeaseKeeper(this.d.queue, job.leases, this.o.leaseMs, this.d.clock, this.d).start();
          const held = keeper;
          if (conn && !conn.opened.session.alive) {
            // Dropped while idle (the peer closed it, or flooded it): this job gets a fresh connection.
            this.open.delete(conn);
            conn.opened.session.close();
            conn = null;
          }
          if (conn && conn.opened.session.transactions >= maxTx) {
            this.open.delete(conn);
            await conn.opened.session.quit();
            conn = null;
          }
          const started = this.d.clock.now();
          let first = false;
          if (!conn) {
            const c = await connectDestination(job.dest, this.connectDeps);
            if (!c.ok) {
              st.dead = { until: this.d.clock.now() + Math.min(this.o.retryMinMs, 60_000), failure: c };
              if (c.dnsFailure) await this.dnsFailed(job, c);
              await this.notConnected(job, c);
              // notConnected and finishJob report their own failures, so every job here is finished and counted.
              for (const rest of st.jobs.splice(0)) {
                await this.notConnected(rest, c);
                await this.finishJob(rest);
              }
              continue;
            }
            conn = c;
            this.open.add(c);
            first = true;
          }
          const usable = await runJob(job, conn, first, started, this.d, this.outcome, () => held.held());
          if (!usable) {
            this.open.delete(conn);
            conn.opened.session.close();
            conn = null;
          }
        } catch (e) {
          // Unexpected (a resolver or policy lookup that threw): the session's state is unknown, so it is closed,
          // and the recipients are deferred like any temporary failure.
          await reportFailure(this.d, job.message.id, 'outbound job', e, { queueId: job.message.id });
          if (conn) {
            this.open.delete(conn);
            conn.opened.session.close();
            conn = null;
          }
          const reason = `local problem: ${e instanceof Error ? e.message : String(e)}`;
          for (const l of job.leases) await this.outcome.deferred(l, '4.3.0', reason);
        } finally {
          keeper?.stop();
          await this.finishJob(job);
        }
      }
    } finally {
      if (conn) {
        this.open.delete(conn);
        await conn.opened.session.quit();
      }
      st.sessions--;
      this.sessions--;
      if (st.jobs.length === 0 && st.sessions === 0 && !st.dead) this.dests.delete(key);
      // Jobs that arrived while this session was closing need a session of their own.
      if (st.jobs.length > 0) this.pump(key);
      for (const k of [...this.starved]) {
        this.starved.delete(k);
        this.pump(k);
      }
      this.wake?.();
    }
  }

  /** Waits a little on an open session for another job to its destination. */
  private nextJob(st: DestState): Promise<Job | undefined> {
    return new Promise((resolve) => {
      const take = (job: Job | undefined) => {
        clearTimeout(timer);
        resolve(job);
      };
      const timer = setTimeout(() => {
        const i = st.idle.indexOf(take);
        if (i !== -1) st.idle.splice(i, 1);
        resolve(undefined);
      }, this.o.sessionIdleMs ?? 2000);
      st.idle.push(take);
    });
  }

  /** One event per destination attempt that DNS could not route (the resolver is down or answers SERVFAIL). */
  private async dnsFailed(job: Job, c: NotConnected): Promise<void> {
    this.stats.dnsFailures++;
    this.d.log.warn({ domain: job.dest.domain, relay: job.dest.relay?.host ?? null, reason: c.reason }, 'DNS failure: delivery deferred');
    try {
      await this.d.events.record('delivery.dns_failure', job.dest.relay?.host ?? job.dest.domain, { domain: job.dest.domain, status: c.status, reason: c.reason }, this.d.clock.now());
    } catch (e) {
      await reportFailure(this.d, job.dest.domain, 'recording a DNS failure', e);
    }
  }

  /** Recipients not attempted go back to the queue, due now. */
  private async putBack(job: Job, why: string): Promise<void> {
    for (const l of job.leases) {
      try {
        await this.d.queue.defer(l, this.d.clock.now(), why);
      } catch (e) {
        await reportFailure(this.d, job.message.id, 'returning a recipient to the queue', e, { queueId: job.message.id, rcpt: l.recipient.address });
      }
    }
  }

  private async purge(): Promise<void> {
    try {
      await this.d.queue.purgeFinished();
    } catch (e) {
      await reportFailure(this.d, 'outbound', 'purging finished messages', e);
    }
  }

  /** The job counts as in flight until its outcome (a bounce included) is recorded, so a pass never ends before it. */
  private async finishJob(job: Job): Promise<void> {
    try {
      await this.outcome.close(job.message);
    } finally {
      this.inflight--;
      this.finishedSincePurge++;
      this.wake?.();
    }
  }

  /** A lease about to expire is left alone: another attempt takes it over cleanly. */
  private leaseTooShort(job: Job): boolean {
    const margin = Math.min(this.o.leaseMs / 2, this.o.dataTimeoutMs + 4 * this.o.commandTimeoutMs);
    return job.leases.some((l) => l.until - this.d.clock.now() < margin);
  }

  private async notConnected(job: Job, c: NotConnected): Promise<void> {
    const timing = { waitMs: 0, connMs: c.connMs, xmitMs: 0, relay: null, tls: null };
    for (const l of job.leases) {
      if (c.permanent) await this.outcome.failed(l, c.status, c.reason, null, timing);
      else await this.outcome.deferred(l, c.status, c.reason, timing);
    }
  }
}
