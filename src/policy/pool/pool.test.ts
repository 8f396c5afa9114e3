import { spawnSync } from 'node:child_process';
import { setImmediate as tick } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryResolver } from '../../net/dns/memory.js';
import type { DnsAnswer, DnsResolver } from '../../net/dns/types.js';
import { PolicyAborted, PolicyBusy, PolicyTaskError, PolicyTimeout, PolicyWorkerDied } from './errors.js';
import { PolicyPool } from './pool.js';
import type { TaskName } from './tasks.js';

const BUDGET = 20_000;

/** Settles `p` and returns its rejection (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
}

/**
 * Live handles of the kinds the pool creates (message ports, threads), by
 * kind. Timers are left out: the test runner's own come and go.
 */
function poolHandles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'MessagePort' || kind === 'Worker') out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** The handle counts once pending closes have run. */
async function settledHandles(): Promise<Record<string, number>> {
  for (let i = 0; i < 20; i++) await tick();
  return poolHandles();
}

/** Waits (bounded) until the handle counts equal `want`; returns the last counts seen. */
async function handlesSettleTo(want: Record<string, number>): Promise<Record<string, number>> {
  let now = poolHandles();
  for (let i = 0; i < 200 && JSON.stringify(now) !== JSON.stringify(want); i++) {
    await tick();
    now = poolHandles();
  }
  return now;
}

/** No more handles of any kind than `limit`: a leak adds ports; a thread that went away may leave fewer. */
function within(now: Record<string, number>, limit: Record<string, number>): boolean {
  return Object.entries(now).every(([k, n]) => n <= (limit[k] ?? 0));
}

/** Waits (bounded) until no handle count exceeds `limit`; true when that happened. */
async function handlesSettleWithin(limit: Record<string, number>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (within(poolHandles(), limit)) return true;
    await tick();
  }
  return within(poolHandles(), limit);
}

describe('PolicyPool', () => {
  let pool: PolicyPool;
  beforeAll(() => {
    pool = PolicyPool.open({ threads: 1, maxHeapMb: 64 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('round-trips plain data through a worker thread', async () => {
    const input = { text: 'héllo', n: 42, nested: [1, { ok: true }], bytes: new Uint8Array([0, 1, 255]) };
    expect(await pool.run('selftest.echo', input, { budgetMs: BUDGET })).toEqual(input);
    expect(await pool.run('selftest.thread', null, { budgetMs: BUDGET })).not.toBe(0);
  });

  it('stops a spinning task at its budget, replaces its thread and serves the next task', async () => {
    const before = await pool.run<number>('selftest.thread', null, { budgetMs: BUDGET });
    const timeouts = pool.stats().timeouts;
    const e = await rejection(pool.run('selftest.spin', null, { budgetMs: 200 }));
    expect(e).toBeInstanceOf(PolicyTimeout);
    expect((e as PolicyTimeout).code).toBe('TIMEOUT');
    expect(pool.stats().timeouts).toBe(timeouts + 1);
    const after = await pool.run<number>('selftest.thread', null, { budgetMs: BUDGET });
    expect(after).not.toBe(before); // the spinning thread was terminated, a new one took its place
    expect(await pool.run('selftest.echo', 'next', { budgetMs: BUDGET })).toBe('next');
  });

  it('keeps the main event loop turning while a task spins, and stops it on the caller\'s abort', async () => {
    await pool.run('selftest.echo', 'warm', { budgetMs: BUDGET });
    const ac = new AbortController();
    let settled = false;
    const spin = pool.run('selftest.spin', null, { budgetMs: BUDGET, signal: ac.signal });
    const outcome = rejection(spin).finally(() => {
      settled = true;
    });
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const iv = setInterval(() => {
        ticks++;
        if (ticks >= 20) {
          clearInterval(iv);
          resolve();
        }
      }, 2);
    });
    for (let i = 0; i < 100; i++) await tick();
    expect(ticks).toBe(20);
    expect(settled).toBe(false);
    expect(pool.stats().running).toBe(1);
    ac.abort(new Error('session closed'));
    const e = await outcome;
    expect(e).toBeInstanceOf(PolicyAborted);
    expect((e as PolicyAborted).cause).toEqual(new Error('session closed'));
    expect(await pool.run('selftest.echo', 'after abort', { budgetMs: BUDGET })).toBe('after abort');
  });

  it('rejects at once when the caller\'s signal is already aborted', async () => {
    const e = await rejection(pool.run('selftest.echo', 1, { budgetMs: BUDGET, signal: AbortSignal.abort() }));
    expect(e).toBeInstanceOf(PolicyAborted);
  });

  it('reports a task that throws as PolicyTaskError with its message; the thread lives on', async () => {
    const before = await pool.run<number>('selftest.thread', null, { budgetMs: BUDGET });
    const e = await rejection(pool.run('selftest.throw', { message: 'bad MIME boundary' }, { budgetMs: BUDGET }));
    expect(e).toBeInstanceOf(PolicyTaskError);
    expect((e as Error).message).toContain('bad MIME boundary');
    expect((e as PolicyTaskError).code).toBe('TASK_FAILED');
    expect(await pool.run('selftest.thread', null, { budgetMs: BUDGET })).toBe(before);
  });

  it('refuses a task name outside the registry', async () => {
    const e = await rejection(pool.run('constructor' as TaskName, null, { budgetMs: BUDGET }));
    expect(e).toBeInstanceOf(PolicyTaskError);
    expect((e as Error).message).toContain('unknown task');
  });

  it('refuses input that is not plain data as PolicyTaskError, and serves the next task', async () => {
    const e = await rejection(pool.run('selftest.echo', { callback: () => 1 }, { budgetMs: BUDGET }));
    expect(e).toBeInstanceOf(PolicyTaskError);
    expect((e as Error).message).toContain('not plain data');
    expect(await pool.run('selftest.echo', 'plain', { budgetMs: BUDGET })).toBe('plain');
  });

  it('reports process.exit in a worker as PolicyWorkerDied and serves the next task', async () => {
    const deaths = pool.stats().deaths;
    const e = await rejection(pool.run('selftest.exit', null, { budgetMs: BUDGET }));
    expect(e).toBeInstanceOf(PolicyWorkerDied);
    expect((e as PolicyWorkerDied).code).toBe('WORKER_DIED');
    expect(pool.stats().deaths).toBe(deaths + 1);
    expect(await pool.run('selftest.echo', 'alive', { budgetMs: BUDGET })).toBe('alive');
  });

  it('reports a worker that runs out of heap as PolicyWorkerDied and serves the next task', () => {
    // In a child process: Node can abort the whole process when a worker thread reaches its heap limit
    // (nodejs/node#47224, rare), which would take the test runner's process with it. Such an abort is
    // tried again (at most three runs); an answer other than PolicyWorkerDied fails at once.
    const script = `
      const { PolicyPool, PolicyWorkerDied } = await import(${JSON.stringify(new URL('../../../dist/policy/pool/index.js', import.meta.url).href)});
      const pool = PolicyPool.open({ threads: 1, maxHeapMb: 64 });
      const out = {};
      try { await pool.run('selftest.alloc', null, { budgetMs: 50000 }); out.resolved = true; }
      catch (e) { out.died = e instanceof PolicyWorkerDied; out.message = e.message; }
      out.next = await pool.run('selftest.echo', 'alive', { budgetMs: 20000 });
      await pool.close();
      console.log(JSON.stringify(out));`;
    let last = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
      last = `${r.status} ${r.signal ?? ''} ${r.stderr.slice(-500)}`;
      if (r.status === 0) {
        const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { died?: boolean; message?: string; resolved?: boolean; next?: string };
        expect(out).toMatchObject({ died: true, next: 'alive' });
        expect(out.message).toMatch(/memory/i);
        return;
      }
      expect(r.stderr).toMatch(/heap out of memory|Reached heap limit|Fatal process out of memory/i); // the upstream abort, nothing else
    }
    throw new Error(`the child process aborted three times: ${last}`);
  }, 400_000);

  it('counts what it did', () => {
    const s = pool.stats();
    expect(s.threads).toBeGreaterThanOrEqual(0);
    expect(s.threads).toBeLessThanOrEqual(1);
    expect(s.completed).toBeGreaterThan(5);
    expect(s.failed).toBe(3);
    expect(s.timeouts).toBe(1);
    expect(s.aborted).toBe(2);
    expect(s.deaths).toBe(1); // process.exit; the heap death happens in a child process (above)
    expect(s.queued + s.running).toBe(0);
  });
});

describe('PolicyPool queue', () => {
  it('refuses with PolicyBusy when every thread is busy and the queue is full', async () => {
    const pool = PolicyPool.open({ threads: 1, maxQueue: 2 });
    try {
      const ac = new AbortController();
      const held = [1, 2, 3].map(() => rejection(pool.run('selftest.sleep', { ms: 60_000 }, { budgetMs: 60_000, signal: ac.signal })));
      const s = pool.stats();
      expect(s.queued + s.running).toBe(3);
      const e = await rejection(pool.run('selftest.echo', 'one too many', { budgetMs: BUDGET }));
      expect(e).toBeInstanceOf(PolicyBusy);
      expect((e as PolicyBusy).code).toBe('BUSY');
      expect(pool.stats().refused).toBe(1);
      ac.abort();
      for (const e2 of await Promise.all(held)) expect(e2).toBeInstanceOf(PolicyAborted);
      expect(await pool.run('selftest.echo', 'room again', { budgetMs: BUDGET })).toBe('room again');
    } finally {
      await pool.close();
    }
  });

  it('counts the time a task waits for a thread against its budget', async () => {
    const pool = PolicyPool.open({ threads: 1 });
    try {
      const blocker = rejection(pool.run('selftest.spin', null, { budgetMs: 1_000 }));
      // Never reaches a thread before its budget is spent: the spin holds the only one.
      const e = await rejection(pool.run('selftest.echo', 'waiting', { budgetMs: 100 }));
      expect(e).toBeInstanceOf(PolicyTimeout);
      expect(await blocker).toBeInstanceOf(PolicyTimeout);
    } finally {
      await pool.close();
    }
  });
});

describe('PolicyPool DNS proxy', () => {
  const zone = new MemoryResolver({
    'example.org': { TXT: ['v=spf1 -all'], secure: true },
    'nodata.example.org': { A: ['192.0.2.1'] },
    'broken.example.org': { TXT: ['never seen'], fail: ['TXT'] },
    '_25._tcp.mx.example.org': { TLSA: [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.from('c0ffee', 'hex') }], secure: true },
  });
  let pool: PolicyPool;
  beforeAll(() => {
    pool = PolicyPool.open({ threads: 1 });
  });
  afterAll(async () => {
    await pool.close();
  });
  const dns = <T>(input: unknown, resolver: DnsResolver = zone): Promise<DnsAnswer<T>> =>
    pool.run<DnsAnswer<T>>('selftest.dns', input, { budgetMs: BUDGET, resolver });

  it('answers from the main thread\'s resolver: ok, nxdomain, nodata, temperror', async () => {
    expect(await dns({ name: 'example.org' })).toEqual({ status: 'ok', records: ['v=spf1 -all'], authenticated: true });
    expect(await dns({ name: 'missing.example.org' })).toEqual({ status: 'nxdomain', authenticated: false });
    expect(await dns({ name: 'nodata.example.org' })).toEqual({ status: 'nodata', authenticated: false });
    expect(await dns({ name: 'broken.example.org' })).toEqual({ status: 'temperror', reason: 'TXT broken.example.org: SERVFAIL' });
    const tlsa = await dns<{ data: Uint8Array }>({ name: '_25._tcp.mx.example.org', type: 'tlsa' });
    expect(tlsa.status).toBe('ok');
    if (tlsa.status === 'ok') expect(Buffer.from(tlsa.records[0]!.data).toString('hex')).toBe('c0ffee');
  });

  it('turns a resolver that throws into temperror', async () => {
    const throwing = { ...zone, txt: () => Promise.reject(new Error('socket closed')) } as unknown as DnsResolver;
    const a = await dns({ name: 'example.org' }, throwing);
    expect(a).toMatchObject({ status: 'temperror' });
    expect((a as { reason: string }).reason).toContain('socket closed');
  });

  it('a task without a resolver cannot look up anything', async () => {
    const e = await rejection(pool.run('selftest.dns', { name: 'example.org' }, { budgetMs: BUDGET }));
    expect(e).toBeInstanceOf(PolicyTaskError);
    expect((e as Error).message).toContain('no resolver');
  });

  it('allows at most 64 lookups per task, then answers temperror', async () => {
    const counted = new MemoryResolver({ 'example.org': { TXT: ['v=spf1 -all'] } });
    const answers = await pool.run<DnsAnswer<string>[]>('selftest.dns.repeat', { name: 'example.org', times: 70 }, { budgetMs: BUDGET, resolver: counted });
    expect(answers).toHaveLength(70);
    expect(answers.slice(0, 64).every((a) => a.status === 'ok')).toBe(true);
    expect(answers.slice(64).every((a) => a.status === 'temperror')).toBe(true);
    expect(counted.log).toHaveLength(64);
  });

  it('closes the channel when a task ends: success, failure and timeout leave no port open', async () => {
    // Measured after each task on its own: a parked worker does not run its
    // event loop, so only the main side's close ends the channel at once.
    await pool.run('selftest.echo', 'warm', { budgetMs: BUDGET });
    const baseline = await settledHandles();
    await dns({ name: 'example.org' });
    expect(await handlesSettleWithin(baseline), JSON.stringify(poolHandles())).toBe(true);
    await rejection(pool.run('selftest.dns', { type: 'bogus', name: 'x' }, { budgetMs: BUDGET, resolver: zone }));
    expect(await handlesSettleWithin(baseline), JSON.stringify(poolHandles())).toBe(true);
    // A resolver that never answers: the task waits on DNS until its budget ends and its thread is replaced.
    const hanging = { ...zone, txt: () => new Promise(() => undefined) } as unknown as DnsResolver;
    expect(await rejection(pool.run('selftest.dns', { name: 'example.org' }, { budgetMs: 200, resolver: hanging }))).toBeInstanceOf(PolicyTimeout);
    // The replacement thread holds a port of its own until its first task.
    await pool.run('selftest.echo', 'warm again', { budgetMs: BUDGET });
    expect(await handlesSettleWithin(baseline), JSON.stringify(poolHandles())).toBe(true);
  });
});

describe('PolicyPool lifecycle', () => {
  it('close() waits for tasks in flight, stops every thread and leaves no handle behind', async () => {
    const baseline = await settledHandles();
    const pool = PolicyPool.open({ threads: 2 });
    const zone = new MemoryResolver({ 'example.org': { TXT: ['x'] } });
    const work = Promise.all([
      pool.run('selftest.echo', 1, { budgetMs: BUDGET }),
      pool.run('selftest.sleep', { ms: 50 }, { budgetMs: BUDGET }),
      pool.run('selftest.dns', { name: 'example.org' }, { budgetMs: BUDGET, resolver: zone }),
    ]);
    await tick();
    await pool.close();
    expect(await work).toEqual([1, 50, { status: 'ok', records: ['x'], authenticated: false }]);
    expect(pool.stats().threads).toBe(0);
    expect(await rejection(pool.run('selftest.echo', 1, { budgetMs: BUDGET }))).toBeInstanceOf(PolicyBusy);
    expect(await handlesSettleTo(baseline)).toEqual(baseline);
  });

  it('refuses bad options with a RangeError', () => {
    expect(() => PolicyPool.open({ threads: 0 })).toThrow(RangeError);
    expect(() => PolicyPool.open({ maxQueue: -1 })).toThrow(RangeError);
  });
});
