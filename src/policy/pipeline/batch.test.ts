import { describe, expect, it } from 'vitest';
import { passVerdict, type Verdict } from '../../core/verdict.js';
import type { PoolWork } from '../pool/batch.js';
import { runPhase, type ConfiguredStage } from './run.js';
import type { Stage, StageInput, StartBatch, WorkBatch } from './stage.js';

const env = { sender: 's@out.test', recipients: ['u@example.org'], helo: 'out.test', clientAddress: '192.0.2.1', listener: 'mx' as const, authUser: null, tls: false };
const input: Omit<StageInput, 'earlier'> = { queueId: 'Q1', raw: Buffer.from('From: a@out.test\r\n\r\nbody\r\n'), envelope: env, direction: 'inbound' };
const work = (task: PoolWork['task']): PoolWork => ({ task, input: {}, budgetMs: 1000 });

/** A stage with pool work: its verdict says whether its answer came from the batch, and what it was. */
function pooledStage(name: string, task: PoolWork['task'], action: Verdict['action'] = 'pass', ownTask: () => Promise<unknown> = async () => 'own'): Stage {
  return {
    name,
    phase: 'inline',
    directions: ['inbound'],
    poolWork: () => work(task),
    async run(_input, ctx) {
      const answer = await (ctx.pooled ?? ownTask());
      return { ...passVerdict(name), action, facts: { answer: String(answer), batched: ctx.pooled !== undefined } };
    },
  };
}
const conf = (s: Stage, budgetMs = 500, failOpen = false): ConfiguredStage => ({ stage: s, settings: { budgetMs, failOpen } });

/** A batch whose answers the test gives: answer(i, v) or never (a hung item). */
function fakeBatches() {
  const started: PoolWork['task'][][] = [];
  const log: string[] = [];
  const start: StartBatch = (_raw, works) => {
    started.push(works.map((w) => w.task));
    let alive = true;
    const answers = works.map((w, i) => (w.task === 'selftest.spin' ? new Promise<unknown>(() => undefined) : Promise.resolve(`batched ${i}`)));
    const batch: WorkBatch = {
      result: (i) => answers[i]!,
      answered: (i) => works[i]!.task !== 'selftest.spin',
      get alive() {
        return alive;
      },
      abort: () => {
        alive = false;
        log.push('abort');
      },
      stop: () => void log.push('stop'),
    };
    return batch;
  };
  return { start, started, log };
}

describe('runPhase: the stages\' pool work as one batch', () => {
  it('sends the due stages\' work ahead in one batch and hands each stage its own answer', async () => {
    const f = fakeBatches();
    const off: Stage = { ...pooledStage('outbound-only', 'dlp.classify'), directions: ['outbound'] };
    const plain: Stage = { name: 'plain', phase: 'inline', directions: ['inbound'], run: async () => passVerdict('plain') };
    const r = await runPhase('inline', [conf(pooledStage('a', 'auth.inspect')), conf(off), conf(plain), conf(pooledStage('b', 'attachments.facts'))], input, Date.now, [], f.start);
    expect(f.started).toEqual([['auth.inspect', 'attachments.facts']]);
    expect(r.verdicts.map((v) => [v.stage, v.facts?.answer])).toEqual([
      ['a', 'batched 0'],
      ['plain', undefined],
      ['b', 'batched 1'],
    ]);
  });

  it('sends no batch for a single stage with work: it runs its own task', async () => {
    const f = fakeBatches();
    const r = await runPhase('inline', [conf(pooledStage('a', 'auth.inspect'))], input, Date.now, [], f.start);
    expect(f.started).toEqual([]);
    expect(r.verdicts[0]?.facts).toMatchObject({ answer: 'own', batched: false });
  });

  it('stops the batch when a stage refuses: later stages do not run', async () => {
    const f = fakeBatches();
    const r = await runPhase('inline', [conf(pooledStage('a', 'auth.inspect', 'reject')), conf(pooledStage('b', 'attachments.facts'))], input, Date.now, [], f.start);
    expect(r.action).toBe('reject');
    expect(r.verdicts.map((v) => v.stage)).toEqual(['a']);
    expect(f.log).toEqual(['stop']);
  });

  it('a stage out of budget before its answer aborts the batch, fails as before, and the next stage runs its own task', async () => {
    const f = fakeBatches();
    const r = await runPhase(
      'inline',
      [conf(pooledStage('hung', 'selftest.spin'), 50, true), conf(pooledStage('b', 'attachments.facts'))],
      input,
      Date.now,
      [],
      f.start,
    );
    expect(r.verdicts[0]).toMatchObject({ stage: 'hung', action: 'pass', reasons: [{ rule: 'fail-open:timeout' }] });
    expect(r.verdicts[1]?.facts).toMatchObject({ answer: 'own', batched: false });
    expect(f.log).toEqual(['abort', 'stop']);
  });

  it('without a batch starter every stage runs its own task', async () => {
    const r = await runPhase('inline', [conf(pooledStage('a', 'auth.inspect')), conf(pooledStage('b', 'attachments.facts'))], input, Date.now);
    expect(r.verdicts.map((v) => v.facts?.batched)).toEqual([false, false]);
  });
});
