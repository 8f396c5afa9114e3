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

/** The subject of maintenance events: windows are declared for the whole installation. */
export const MAINTENANCE = 'maintenance';

export async function recordStart(events: EventRepo, node: string, clock: Clock, log: Logger): Promise<void> {
  const last = async (kind: string) => (await events.list(kind, 200)).find((e) => e.subject === node);
  const [start, stop] = [await last('server.start'), await last('server.stop')];
  const now = clock.now();
  if (start && (!stop || stop.id < start.id)) {
    log.warn({ since: new Date(start.at).toISOString() }, 'the previous run of this node did not stop cleanly');
    await events.record('server.unclean_stop', node, { startedAt: start.at, detectedAt: now }, now);
    const beat = await last('server.heartbeat');
    // Down since its last sign of life: the last heartbeat of that run, else its start.
    const from = beat && beat.id > start.id ? beat.at : start.at;
    await recordDowntime(events, node, 'unclean_stop', from, now);
  } else if (stop) {
    await recordDowntime(events, node, 'stopped', stop.at, now);
  }
  await events.record('server.start', node, { pid: process.pid }, now);
}

export async function recordStop(events: EventRepo, node: string, clock: Clock): Promise<void> {
  await events.record('server.stop', node, { pid: process.pid }, clock.now());
}

async function recordDowntime(events: EventRepo, node: string, cause: 'unclean_stop' | 'stopped', from: number, to: number): Promise<void> {
  const planned = await inMaintenance(events, from, to);
  await events.record('availability.downtime', node, { cause, planned, from, to, ms: Math.max(0, to - from) }, to);
}

/** The maintenance windows recorded, oldest first; a window still open ends at null. */
export async function maintenanceWindows(events: EventRepo): Promise<{ from: number; to: number | null; reason: string }[]> {
  const marks = [...(await events.list('maintenance.start', 1000)), ...(await events.list('maintenance.end', 1000))].sort((a, b) => a.id - b.id);
  const out: { from: number; to: number | null; reason: string }[] = [];
  for (const m of marks) {
    const open = out.at(-1);
    if (m.kind === 'maintenance.start' && (!open || open.to !== null)) out.push({ from: m.at, to: null, reason: String(m.data.reason ?? '') });
    else if (m.kind === 'maintenance.end' && open && open.to === null) open.to = m.at;
  }
  return out;
}

/** True when a declared maintenance window overlaps [from, to]. */
export async function inMaintenance(events: EventRepo, from: number, to: number): Promise<boolean> {
  return (await maintenanceWindows(events)).some((w) => w.from <= to && (w.to === null || w.to >= from));
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
