import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { OutageTracker } from './outage.js';

/** Rounds of a given length on a fake clock: each starts where the last ended. */
function rounds(clock: ManualClock, tracker: OutageTracker) {
  const run = (ok: boolean, ms = 100) => {
    const start = clock.now();
    clock.advance(ms);
    const r = { start, end: clock.now() };
    return ok ? tracker.succeeded(r) : tracker.failed(r);
  };
  return { ok: (ms?: number) => run(true, ms), fail: (ms?: number) => run(false, ms), wait: (ms: number) => clock.advance(ms) };
}

describe('OutageTracker', () => {
  it('starts an outage at the start of the first failed round, once', () => {
    const clock = new ManualClock(10_000);
    const t = new OutageTracker();
    const r = rounds(clock, t);
    expect(r.ok()).toEqual({ started: null, ended: null });
    r.wait(900);
    expect(r.fail(3000)).toEqual({ started: 11_000, ended: null });
    expect(t.outageSince).toBe(11_000);
    // Repeated failures continue the same outage.
    expect(r.fail(3000)).toEqual({ started: null, ended: null });
    expect(r.fail(3000)).toEqual({ started: null, ended: null });
    expect(t.outageSince).toBe(11_000);
  });

  it('ends the outage at the end of the first successful round, then stays up', () => {
    const clock = new ManualClock(0);
    const t = new OutageTracker();
    const r = rounds(clock, t);
    r.ok();
    r.fail(3000); // 100..3100
    r.fail(3000); // 3100..6100
    expect(r.ok(400)).toEqual({ started: null, ended: { from: 100, to: 6500 } });
    expect(t.outageSince).toBeNull();
    expect(t.lastSuccess).toBe(6500);
    expect(r.ok()).toEqual({ started: null, ended: null });
    // A second outage is a new one with its own start.
    r.wait(1000);
    expect(r.fail(50)).toEqual({ started: 7600, ended: null });
    expect(r.ok(50)).toEqual({ started: null, ended: { from: 7600, to: 7700 } });
  });

  it('counts failures from the very first round as an outage', () => {
    const clock = new ManualClock(500);
    const t = new OutageTracker();
    const r = rounds(clock, t);
    expect(t.lastSuccess).toBeNull();
    expect(r.fail()).toEqual({ started: 500, ended: null });
    expect(r.ok()).toEqual({ started: null, ended: { from: 500, to: 700 } });
  });

  it('closes an outage at its last failed round when the probe stops', () => {
    const clock = new ManualClock(0);
    const t = new OutageTracker();
    const r = rounds(clock, t);
    r.ok();
    r.fail(3000); // 100..3100
    r.fail(3000); // 3100..6100
    r.wait(5000); // stopped long after the last round: that time was not observed
    expect(t.stop()).toEqual({ from: 100, to: 6100 });
    expect(t.stop()).toBeNull();
  });

  it('has nothing to close when the probe stops while up', () => {
    const clock = new ManualClock(0);
    const t = new OutageTracker();
    const r = rounds(clock, t);
    expect(t.stop()).toBeNull();
    r.ok();
    expect(t.stop()).toBeNull();
    r.fail();
    r.ok();
    expect(t.stop()).toBeNull();
  });
});
