/**
 * The probe loop: a round every interval (never two at once), each failure
 * recorded as `probe.failure`, the start of an outage as
 * `probe.outage_started`, and its end as one `availability.downtime`
 * (cause "probe"), planned when a maintenance window overlaps it. Successful
 * rounds write no event: they set `postern_probe_up` and feed the histogram
 * `postern_probe_round_trip_seconds`.
 */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../metrics/logger.js';
import type { EventRepo } from '../store/types.js';
import { inMaintenance, NO_SCHEDULE, type MaintenanceSchedule } from '../store/maintenance.js';
import { OutageTracker, type Outage } from './outage.js';
import { runRound, type ProbeTarget, type RoundResult } from './round.js';

export interface ProbeOptions {
  readonly target: ProbeTarget;
  readonly intervalMs: number;
  readonly events: EventRepo;
  /** The subject of the probe's events: the server it watches. */
  readonly subject: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Where the gauge and histogram are registered (PosternMetrics.registry). */
  readonly registry?: Registry;
  readonly schedule?: MaintenanceSchedule;
  /** Replaces the real round (tests). */
  readonly round?: (t: ProbeTarget) => Promise<RoundResult>;
}

export interface RunningProbe {
  /** End of the last successful round (ms), or null. */
  lastSuccess(): number | null;
  /** Stops after the round in progress; an outage in progress is recorded up to its last failed round. */
  stop(): Promise<void>;
}

/** Runs rounds and records their results; the measured side of the probe. */
export class Prober {
  private readonly tracker = new OutageTracker();
  private readonly up?: Gauge;
  private readonly rtt?: Histogram;

  constructor(private readonly o: ProbeOptions) {
    if (o.registry) {
      this.up = (o.registry.getSingleMetric('postern_probe_up') as Gauge | undefined) ??
        new Gauge({ name: 'postern_probe_up', help: 'Whether the last probe round (SMTP → mailbox → IMAP) succeeded (1) or failed (0)', registers: [o.registry] });
      this.rtt = (o.registry.getSingleMetric('postern_probe_round_trip_seconds') as Histogram | undefined) ??
        new Histogram({
          name: 'postern_probe_round_trip_seconds',
          help: 'Time of successful probe rounds: send, appear in IMAP, delete',
          buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
          registers: [o.registry],
        });
    }
  }

  get lastSuccess(): number | null {
    return this.tracker.lastSuccess;
  }

  /** One round, recorded. */
  async round(): Promise<RoundResult> {
    const r = await (this.o.round ?? ((t) => runRound(t, () => this.o.clock.now())))(this.o.target);
    this.up?.set(r.ok ? 1 : 0);
    if (r.ok) {
      this.rtt?.observe(r.ms / 1000);
      const first = this.tracker.lastSuccess === null;
      const { ended } = this.tracker.succeeded(r);
      if (ended) await this.recordOutage(ended);
      else if (first) this.o.log.info({ ms: r.ms }, 'probe round trip works');
      return r;
    }
    this.o.log.warn({ stage: r.stage, error: r.error, ms: r.ms }, 'probe round failed');
    const { started } = this.tracker.failed(r);
    await this.record('probe.failure', { stage: r.stage, error: r.error, ms: r.ms }, r.end);
    if (started !== null) {
      this.o.log.warn({ since: new Date(started).toISOString() }, 'probe outage started');
      await this.record('probe.outage_started', { from: started, stage: r.stage }, r.end);
    }
    return r;
  }

  /** Records the outage in progress, if any, up to the last failed round. */
  async close(): Promise<Outage | null> {
    const open = this.tracker.stop();
    if (open) await this.recordOutage(open);
    return open;
  }

  private async recordOutage(o: Outage): Promise<void> {
    let planned = false;
    try {
      planned = await inMaintenance(this.o.events, o.from, o.to, this.o.schedule ?? NO_SCHEDULE);
    } catch (err) {
      this.o.log.warn({ err }, 'could not read maintenance windows; the outage counts as unplanned');
    }
    this.o.log.warn({ from: new Date(o.from).toISOString(), ms: o.to - o.from, planned }, 'probe outage ended');
    await this.record('availability.downtime', { cause: 'probe', planned, from: o.from, to: o.to, ms: Math.max(0, o.to - o.from) }, o.to);
  }

  private async record(kind: string, data: Record<string, unknown>, at: number): Promise<void> {
    try {
      await this.o.events.record(kind, this.o.subject, data, at);
    } catch (err) {
      this.o.log.error({ err, kind }, 'could not record a probe event');
    }
  }
}

/** Starts rounds every intervalMs, measured from the start of one round to the next. */
export function startProbe(o: ProbeOptions): RunningProbe {
  const prober = new Prober(o);
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;
  const loop = (async () => {
    while (!stopped) {
      const began = o.clock.now();
      try {
        await prober.round();
      } catch (err) {
        o.log.error({ err }, 'probe round crashed');
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, Math.max(0, began + o.intervalMs - o.clock.now()));
      });
    }
    await prober.close();
  })();
  return {
    lastSuccess: () => prober.lastSuccess,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}
