/**
 * Start and stop of a server process as events, so an outage is counted even
 * when nothing could record it at the time: a process that was killed (or lost
 * its machine) leaves a `server.start` without a `server.stop`, and the next
 * start records `server.unclean_stop` for it. While it runs, a node records
 * `server.heartbeat` every few seconds, so the next start also knows how long
 * the node was down: from its last heartbeat (or its clean stop) until now,
 * recorded as `availability.downtime`, planned when a maintenance window
 * (`postern maintenance start|end`) covered it. Events are keyed by node
 * (host name and data folder), so nodes sharing one PostgreSQL store do not
 * read each other's starts.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../metrics/logger.js';
import type { EventRepo } from '../store/index.js';
import { inMaintenance, NO_SCHEDULE, type MaintenanceSchedule } from '../store/maintenance.js';


export async function recordStart(events: EventRepo, node: string, clock: Clock, log: Logger, schedule: MaintenanceSchedule = NO_SCHEDULE): Promise<void> {
  const last = async (kind: string) => (await events.list(kind, 200)).find((e) => e.subject === node);
  const [start, stop] = [await last('server.start'), await last('server.stop')];
  const now = clock.now();
  if (start && (!stop || stop.id < start.id)) {
    log.warn({ since: new Date(start.at).toISOString() }, 'the previous run of this node did not stop cleanly');
    await events.record('server.unclean_stop', node, { startedAt: start.at, detectedAt: now }, now);
    const beat = await last('server.heartbeat');
    // Down since its last sign of life: the last heartbeat of that run, else its start.
    const from = beat && beat.id > start.id ? beat.at : start.at;
    await recordDowntime(events, node, 'unclean_stop', from, now, schedule);
  } else if (stop) {
    await recordDowntime(events, node, 'stopped', stop.at, now, schedule);
  }
  await events.record('server.start', node, { pid: process.pid }, now);
}

export async function recordStop(events: EventRepo, node: string, clock: Clock): Promise<void> {
  await events.record('server.stop', node, { pid: process.pid }, clock.now());
}

async function recordDowntime(events: EventRepo, node: string, cause: 'unclean_stop' | 'stopped', from: number, to: number, schedule: MaintenanceSchedule): Promise<void> {
  const planned = await inMaintenance(events, from, to, schedule);
  await events.record('availability.downtime', node, { cause, planned, from, to, ms: Math.max(0, to - from) }, to);
}

/** Records `server.heartbeat` every `everyMs` until stopped; a failed write is logged, never thrown. */
export function startHeartbeat(events: EventRepo, node: string, clock: Clock, log: Logger, everyMs: number): { stop(): void } {
  const beat = (): void => {
    events.record('server.heartbeat', node, {}, clock.now()).catch((err: unknown) => log.debug({ err }, 'heartbeat not recorded'));
  };
  const timer = setInterval(beat, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
