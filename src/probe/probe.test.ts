import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../metrics/logger.js';
import type { EventRepo, StoreEvent } from '../store/types.js';
import { Prober } from './probe.js';
import type { FailureStage, ProbeTarget, RoundResult } from './round.js';

/** Events in memory: enough of EventRepo for the probe and the maintenance reader. */
function memoryEvents(): EventRepo & { all: StoreEvent[] } {
  const all: StoreEvent[] = [];
  return {
    all,
    record: (kind, subject, data, now) => {
      all.push({ id: all.length + 1, kind, subject, data, at: now } as StoreEvent);
      return Promise.resolve();
    },
    list: (kind, limit = 100) => Promise.resolve(all.filter((e) => !kind || e.kind === kind).reverse().slice(0, limit)),
  } as EventRepo & { all: StoreEvent[] };
}

const TARGET = {} as ProbeTarget;

/** A prober whose rounds are scripted: each takes `ms` on the fake clock. */
function scripted(events: EventRepo, registry?: Registry) {
  const clock = new ManualClock(1_000_000);
  let next: { ok: boolean; ms: number; stage?: FailureStage } = { ok: true, ms: 200 };
  const round = (): Promise<RoundResult> => {
    const start = clock.now();
    clock.advance(next.ms);
    const end = clock.now();
    return Promise.resolve(next.ok ? { ok: true, start, end, ms: next.ms } : { ok: false, start, end, ms: next.ms, stage: next.stage ?? 'timeout', error: 'no answer' });
  };
  const prober = new Prober({ target: TARGET, intervalMs: 1000, events, subject: 'mail.example.test', clock, log: silentLogger(), round, ...(registry ? { registry } : {}) });
  return {
    clock,
    prober,
    ok: async (ms = 200) => ((next = { ok: true, ms }), prober.round()),
    fail: async (stage: FailureStage = 'timeout', ms = 3000) => ((next = { ok: false, ms, stage }), prober.round()),
  };
}

const kinds = (events: { all: StoreEvent[] }) => events.all.map((e) => e.kind);

describe('Prober', () => {
  it('writes nothing for successful rounds, and one failure event per failed round', async () => {
    const events = memoryEvents();
    const p = scripted(events);
    await p.ok();
    await p.ok();
    expect(events.all).toEqual([]);
    await p.fail('smtp');
    await p.fail('delivery');
    expect(kinds(events)).toEqual(['probe.failure', 'probe.outage_started', 'probe.failure']);
    expect(events.all.map((e) => e.data.stage)).toEqual(['smtp', 'smtp', 'delivery']);
  });

  it('records one unplanned downtime when a round succeeds again', async () => {
    const events = memoryEvents();
    const p = scripted(events);
    await p.ok();
    const from = p.clock.now();
    await p.fail();
    await p.fail();
    await p.ok(500);
    const downs = events.all.filter((e) => e.kind === 'availability.downtime');
    expect(downs).toHaveLength(1);
    expect(downs[0]!.data).toEqual({ cause: 'probe', planned: false, from, to: p.clock.now(), ms: 6500 });
    await p.ok();
    await expect(p.prober.close()).resolves.toBeNull();
    expect(events.all.filter((e) => e.kind === 'availability.downtime')).toHaveLength(1);
  });

  it('counts an outage inside a declared maintenance window as planned', async () => {
    const events = memoryEvents();
    const p = scripted(events);
    await events.record('maintenance.start', 'maintenance', { reason: 'upgrade' }, p.clock.now());
    await p.fail();
    await p.ok();
    expect(events.all.find((e) => e.kind === 'availability.downtime')!.data).toMatchObject({ cause: 'probe', planned: true, ms: 3200 });
  });

  it('records the outage in progress up to its last failed round when it stops', async () => {
    const events = memoryEvents();
    const p = scripted(events);
    const from = p.clock.now();
    await p.fail();
    await p.fail();
    const lastFailure = p.clock.now();
    p.clock.advance(10_000);
    expect(await p.prober.close()).toEqual({ from, to: lastFailure });
    expect(events.all.filter((e) => e.kind === 'availability.downtime').map((e) => e.data)).toEqual([{ cause: 'probe', planned: false, from, to: lastFailure, ms: 6000 }]);
  });

  it('keeps postern_probe_up and the round trip histogram on the registry it is given', async () => {
    const registry = new Registry();
    const p = scripted(memoryEvents(), registry);
    await p.ok(250);
    await p.ok(750);
    let text = await registry.metrics();
    expect(text).toMatch(/^postern_probe_up 1$/m);
    expect(text).toMatch(/^postern_probe_round_trip_seconds_count 2$/m);
    expect(text).toMatch(/^postern_probe_round_trip_seconds_sum 1$/m);
    await p.fail();
    text = await registry.metrics();
    expect(text).toMatch(/^postern_probe_up 0$/m);
    // Failed rounds are not round trips.
    expect(text).toMatch(/^postern_probe_round_trip_seconds_count 2$/m);
    // A second prober on the same registry shares the series instead of failing.
    expect(() => scripted(memoryEvents(), registry)).not.toThrow();
  });
});
