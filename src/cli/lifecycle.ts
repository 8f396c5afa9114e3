/**
 * Start and stop of a server process as events, so an outage is counted even
 * when nothing could record it at the time: a process that was killed (or lost
 * its machine) leaves a `server.start` without a `server.stop`, and the next
 * start records `server.unclean_stop` for it. Events are keyed by node (host
 * name and data folder), so nodes sharing one PostgreSQL store do not read
 * each other's starts.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../metrics/logger.js';
import type { EventRepo } from '../store/index.js';

export async function recordStart(events: EventRepo, node: string, clock: Clock, log: Logger): Promise<void> {
  const last = async (kind: string) => (await events.list(kind, 200)).find((e) => e.subject === node);
  const [start, stop] = [await last('server.start'), await last('server.stop')];
  if (start && (!stop || stop.id < start.id)) {
    log.warn({ since: new Date(start.at).toISOString() }, 'the previous run of this node did not stop cleanly');
    await events.record('server.unclean_stop', node, { startedAt: start.at, detectedAt: clock.now() }, clock.now());
  }
  await events.record('server.start', node, { pid: process.pid }, clock.now());
}

export async function recordStop(events: EventRepo, node: string, clock: Clock): Promise<void> {
  await events.record('server.stop', node, { pid: process.pid }, clock.now());
}
