import { describe, expect, it } from 'vitest';
import { Pump } from './pump.js';
import { silentLogger } from '../metrics/logger.js';

const log = silentLogger();

/** A pass that stays open until released; records how many ran at once. */
function gatedPasses() {
  const gates: (() => void)[] = [];
  const state = { started: 0, open: 0, most: 0 };
  const pass = () =>
    new Promise<void>((resolve) => {
      state.started++;
      state.open++;
      state.most = Math.max(state.most, state.open);
      gates.push(() => {
        state.open--;
        resolve();
      });
    });
  return { pass, gates, state };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('Pump', () => {
  it('runs one pass at a time by default: a kick during a pass runs once after it', async () => {
    const g = gatedPasses();
    const pump = new Pump(g.pass, 60_000, log, 'test');
    pump.start();
    pump.kick();
    pump.kick();
    await turn();
    expect(g.state).toMatchObject({ started: 1, most: 1 });
    g.gates.shift()!();
    await turn();
    expect(g.state.started).toBe(2);
    g.gates.shift()!();
    await turn();
    expect(g.state.started).toBe(2);
    pump.halt();
    await pump.idle;
  });

  it('starts a kicked pass at once while fewer than `parallel` run, and never more', async () => {
    const g = gatedPasses();
    const pump = new Pump(g.pass, 60_000, log, 'test', undefined, 2);
    pump.start();
    pump.kick();
    await turn();
    expect(g.state).toMatchObject({ started: 2, open: 2 });
    pump.kick();
    pump.kick();
    await turn();
    expect(g.state.started).toBe(2);
    // One ends: the kicks that waited make one more pass, not two.
    g.gates.shift()!();
    await turn();
    expect(g.state).toMatchObject({ started: 3, open: 2, most: 2 });
    pump.halt();
    let settled = false;
    const idle = pump.idle.then(() => (settled = true));
    await turn();
    expect(settled).toBe(false);
    for (const open of g.gates.splice(0)) open();
    await idle;
    expect(g.state.open).toBe(0);
  });

  it('a failed pass is reported and does not stop the next', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const pump = new Pump(
      async () => {
        calls++;
        if (calls === 1) throw new Error('store down');
      },
      60_000,
      log,
      'test',
      async (e) => {
        errors.push(e);
      },
      2,
    );
    pump.start();
    await turn();
    await pump.idle;
    pump.kick();
    await pump.idle;
    expect(errors).toHaveLength(1);
    expect(calls).toBe(2);
    pump.halt();
  });

  it('refuses a parallel count below one', () => {
    expect(() => new Pump(async () => undefined, 1000, log, 'test', undefined, 0)).toThrow(/positive integer/);
  });
});
