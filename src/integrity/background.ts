/**
 * The server's background scrubber: one rate-limited scrub every
 * `intervalHours`, the first one when the last completed scrub in the event
 * log is that old (so a restart does not restart the cycle), and a listener
 * that marks a blob damaged as soon as any read finds it uncorrectable or
 * missing.
 */
import { systemClock, type Clock } from '../core/clock.js';
import type { Store } from '../store/index.js';
import { scrub } from './scrub.js';
import { gc } from './gc.js';

export interface ScrubLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface BackgroundScrubOptions {
  /** Hours between scrubs; 0 turns the background scrubber off. */
  intervalHours: number;
  /** MB/s the scrubber may read. */
  rateMBps: number;
  log: ScrubLog;
  clock?: Clock;
  /** Earliest first run after start, so start-up is not slowed down (default 60 s). */
  startDelayMs?: number;
}

export interface BackgroundScrubber {
  /** Stops the timer and any running scrub (between two blobs). */
  stop(): Promise<void>;
}

const HOUR = 3_600_000;
/** setTimeout takes at most 2^31-1 ms; longer waits are done in steps. */
const MAX_TIMER = 2 ** 31 - 1;

/**
 * Runs `job` every `interval` ms, the first time when the newest `lastKind`
 * event is that old, but never sooner than `startDelayMs` after start. A run
 * in progress is awaited by stop(); a failed look-up of the last run only
 * means the first run is not delayed by it.
 */
function startPeriodic(
  store: Store,
  o: { interval: number; lastKind: string; startDelayMs: number; clock: Clock; log: ScrubLog; what: string },
  job: (signal: AbortSignal) => Promise<void>,
): BackgroundScrubber {
  const { clock } = o;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let dueAt = 0;

  const arm = (at: number) => {
    dueAt = at;
    if (abort.signal.aborted) return;
    timer = setTimeout(tick, Math.min(MAX_TIMER, Math.max(0, at - clock.now())));
    timer.unref();
  };
  const tick = () => {
    timer = null;
    if (clock.now() < dueAt) return arm(dueAt);
    running = job(abort.signal)
      .catch((e: unknown) => o.log.error({ err: e }, `${o.what} failed`))
      .finally(() => {
        running = null;
        arm(clock.now() + o.interval);
      });
  };

  store.meta.events
    .list(o.lastKind, 1)
    .catch(() => [])
    .then(([last]) => arm(Math.max(clock.now() + o.startDelayMs, last ? last.at + o.interval : 0)))
    .catch((e: unknown) => {
      // Never an unhandled rejection; the job would simply not run, so say so loudly.
      o.log.error({ err: e }, `${o.what} could not be scheduled`);
      store.meta.events.record('integrity.error', o.what, { what: `scheduling ${o.what}`, reason: e instanceof Error ? e.message : String(e) }, clock.now()).catch(() => undefined);
    });

  return {
    async stop() {
      abort.abort();
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

export function startBackgroundScrub(store: Store, opts: BackgroundScrubOptions): BackgroundScrubber {
  const clock = opts.clock ?? systemClock;
  if (!(opts.intervalHours > 0)) return { stop: async () => undefined };
  const o = { interval: opts.intervalHours * HOUR, lastKind: 'integrity.scrub_completed', startDelayMs: opts.startDelayMs ?? 60_000, clock, log: opts.log, what: 'background scrub' };
  return startPeriodic(store, o, async (signal) => {
    opts.log.info({ rateMBps: opts.rateMBps }, 'background scrub started');
    const r = await scrub(store, { metadata: 'quick', rateMBps: opts.rateMBps, clock, signal, concurrency: 1 });
    const summary = {
      blobs: r.blobs,
      bytes: r.bytes,
      corrected: r.corrected,
      uncorrectable: r.uncorrectable.length,
      missing: r.missing.length,
      orphans: r.orphans.length,
      metadataOk: r.metadata.ok,
      durationMs: r.durationMs,
    };
    if (r.aborted) opts.log.info(summary, 'background scrub stopped');
    else if (r.clean) opts.log.info(summary, 'background scrub completed');
    else opts.log.error(summary, 'background scrub found damage it could not repair');
  });
}

/**
 * Marks a blob damaged the moment any read (IMAP, POP3, delivery, backup)
 * finds it uncorrectable or missing, if a message or queue entry uses it.
 */
export function watchDamage(store: Store, clock: Clock = systemClock, log?: ScrubLog): void {
  store.blobs.onIntegrity((e) => {
    if (e.kind === 'corrected') return;
    void (async () => {
      if ((await store.meta.mailboxes.blobReferences(e.blobId)) === 0) return;
      await store.meta.integrity.markDamaged(e.blobId, e.detail, clock.now());
    })().catch(async (err: unknown) => {
      // The next read of the blob, or the next scrub, finds the damage again and retries the mark.
      log?.error({ err, blobId: e.blobId }, 'damaged blob could not be marked');
      await store.meta.events
        .record('integrity.error', e.blobId, { what: 'marking a damaged blob', reason: err instanceof Error ? err.message : String(err) }, clock.now())
        .catch(() => undefined);
    });
  });
}

export interface BackgroundGcOptions {
  /** Hours between garbage collections; 0 turns it off. */
  intervalHours: number;
  /** Events older than this many days are removed; 0 keeps them all. */
  eventsRetentionDays: number;
  log: ScrubLog;
  clock?: Clock;
  /** Earliest first run after start (default 5 minutes). */
  startDelayMs?: number;
}

/**
 * The server's garbage collector: one gc() every `intervalHours`, the first
 * when the last one in the event log (`store.gc`) is that old, but never
 * sooner than `startDelayMs` after start. Each run records its result as a
 * `store.gc` event.
 */
export function startBackgroundGc(store: Store, opts: BackgroundGcOptions): BackgroundScrubber {
  const clock = opts.clock ?? systemClock;
  if (!(opts.intervalHours > 0)) return { stop: async () => undefined };
  const o = { interval: opts.intervalHours * HOUR, lastKind: 'store.gc', startDelayMs: opts.startDelayMs ?? 5 * 60_000, clock, log: opts.log, what: 'garbage collection' };
  return startPeriodic(store, o, async (signal) => {
    const r = await gc(store, { eventsRetentionDays: opts.eventsRetentionDays, clock, signal });
    opts.log.info(
      { blobsRemoved: r.blobsRemoved, bytesRemoved: r.bytesRemoved, headerCacheRemoved: r.headerCacheRemoved, eventsRemoved: r.eventsRemoved, durationMs: r.durationMs },
      r.aborted ? 'garbage collection stopped' : 'garbage collection completed',
    );
  });
}
