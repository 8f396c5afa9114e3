/**
 * A store that fails while delivery records an outcome (a bounce, a
 * deferral) never crashes the process or stalls the agent: the failure is
 * logged and recorded as a `delivery.error` event, the recipient stays
 * leased, and once its lease expires it is tried again.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHarness, message, ManualClock, type Harness } from './helpers/harness.js';
import { startPeer, smtpError, type Peer } from './helpers/peer.js';
import type { QueueRepo } from '../../src/store/types.js';

const zone = {
  'dest.test': { MX: [{ exchange: 'mx1.dest.test', preference: 10 }] },
  'mx1.dest.test': { A: ['127.0.0.1'] },
};
const T0 = Date.UTC(2025, 0, 2, 12, 0, 0);
const LEASE = 10_000;

/** The real queue, except that the named methods throw while `failing` says so (the n-th call on, when given). */
function faultyQueue(q: QueueRepo, failing: Map<string, { from: number; calls: number }>): QueueRepo {
  return new Proxy(q, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      const f = failing.get(String(prop));
      return (...args: unknown[]) => {
        if (f && ++f.calls >= f.from) return Promise.reject(new Error(`disk I/O error (injected in ${String(prop)})`));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('store failures during delivery', () => {
  let h: Harness | null = null;
  let peer: Peer | null = null;
  const rejections: unknown[] = [];
  const onRejection = (e: unknown) => rejections.push(e);
  beforeEach(() => {
    rejections.length = 0;
    process.on('unhandledRejection', onRejection);
  });
  afterEach(async () => {
    process.off('unhandledRejection', onRejection);
    await h?.close();
    await peer?.close();
    h = peer = null;
  });

  /** Lets pending rejections surface as 'unhandledRejection' before we look. */
  const settle = () => new Promise<void>((r) => setImmediate(() => setImmediate(r)));

  it('a failing write while bouncing becomes an event and a retry, not a crash', async () => {
    peer = await startPeer({ tls: null, onRcpt: () => smtpError(550, '5.1.1 no such user') });
    const clock = new ManualClock(T0);
    const failing = new Map([['fail', { from: 1, calls: 0 }]]);
    h = await makeHarness({ zone, port: peer.port, clock, options: { leaseMs: LEASE }, wrapQueue: (q) => faultyQueue(q, failing) });
    const id = await h.enqueue({ to: ['bob@dest.test'], body: message('bounce-fails') });

    await h.agent.pass();
    await settle();
    expect(rejections).toEqual([]);
    const [ev] = await h.store.meta.events.list('delivery.error');
    expect(ev).toMatchObject({ subject: id, data: { what: 'marking a recipient failed', queueId: id, reason: expect.stringContaining('injected in fail') } });
    expect((await h.recipients(id))[0]!.state).toBe('leased'); // nothing lost: it waits for its lease to expire

    failing.clear();
    clock.advance(LEASE);
    await h.agent.pass();
    expect(await h.recipients(id)).toEqual([]); // failed this time, and purged
    // The first bounce was queued before the write failed, so the sender hears twice, never not at all.
    const dsns = [];
    for (const r of await h.store.meta.queue.listPending()) dsns.push((await h.store.meta.queue.getMessage(r.queueId))!);
    expect(dsns.map((m) => [m.sender, m.meta.dsnFor])).toEqual([
      ['', id],
      ['', id],
    ]);
  });

  it('a failing deferral while a destination is unreachable does not stall the pass', async () => {
    const clock = new ManualClock(T0);
    // The second deferral and every one after it fail: the jobs waiting behind the first one hit the failure.
    const failing = new Map([['defer', { from: 2, calls: 0 }]]);
    h = await makeHarness({ zone, port: 1, clock, options: { leaseMs: LEASE, perDestination: 1 }, wrapQueue: (q) => faultyQueue(q, failing) });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await h.enqueue({ to: [`bob${i}@dest.test`], body: message(`unreachable-${i}`) }));

    expect(await h.agent.pass()).toBe(4); // returns: every job was finished and counted
    await settle();
    expect(rejections).toEqual([]);
    expect(await h.store.meta.events.count('delivery.error')).toBe(3);
    const states = await Promise.all(ids.map(async (id) => (await h!.recipients(id))[0]!.state));
    expect(states.sort()).toEqual(['deferred', 'leased', 'leased', 'leased']);

    failing.clear();
    clock.advance(LEASE);
    expect(await h.agent.pass()).toBe(4); // the three whose deferral failed, and the one deferred (due by now)
    for (const id of ids) expect((await h.recipients(id))[0]!.state).toBe('deferred');
  });
});
