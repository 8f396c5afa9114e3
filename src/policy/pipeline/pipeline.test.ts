import { describe, expect, it } from 'vitest';
import { passVerdict, type Verdict } from '../../core/verdict.js';
import { PolicyPipeline, directionOf } from './pipeline.js';
import { formatField, insertBelowTrace } from './apply.js';
import type { ConfiguredStage } from './run.js';
import type { Stage, StageInput } from './stage.js';

const env = { sender: 's@out.test', recipients: ['u@example.org'], helo: 'out.test', clientAddress: '192.0.2.1', listener: 'mx' as const, authUser: null, tls: false };
const msg = Buffer.from('Received: x\r\nFrom: a@out.test\r\n\r\nbody\r\n');
const input = (raw: Uint8Array = msg): Omit<StageInput, 'earlier'> => ({ queueId: 'Q1', raw, envelope: env, direction: 'inbound' });

function stage(name: string, run: Stage['run'], phase: Stage['phase'] = 'inline'): Stage {
  return { name, phase, directions: ['inbound'], run };
}
const conf = (s: Stage, budgetMs = 200, failOpen = false): ConfiguredStage => ({ stage: s, settings: { budgetMs, failOpen } });
const verdict = (stageName: string, action: Verdict['action'], extra: Partial<Verdict> = {}): Verdict => ({ ...passVerdict(stageName), action, ...extra });

function sink() {
  const got: [string, string, Record<string, unknown>][] = [];
  return { got, record: (k: string, s: string, d: Record<string, unknown>) => void got.push([k, s, d]) };
}

describe('policy pipeline', () => {
  it('fails closed when a stage throws or hangs past its budget, and later stages do not run', async () => {
    let ranAfter = false;
    const events = sink();
    const throws = new PolicyPipeline([conf(stage('boom', () => Promise.reject(new Error('engine exploded')))), conf(stage('after', async () => ((ranAfter = true), passVerdict('after'))))], { now: Date.now, events });
    const d = await throws.inline(input());
    expect(d).toMatchObject({ kind: 'refuse', code: 451 });
    expect(d.verdicts[0]).toMatchObject({ stage: 'boom', action: 'tempfail', reasons: [{ rule: 'fail-closed:error', detail: 'engine exploded' }] });
    expect(ranAfter).toBe(false);
    expect(events.got).toEqual([['policy.stage_failed', 'Q1', { stage: 'boom', cause: 'error', action: 'tempfail' }]]);

    let aborted = false;
    const hangs = new PolicyPipeline(
      [conf(stage('hang', (_i, ctx) => new Promise(() => ctx.signal.addEventListener('abort', () => (aborted = true)))), 50)],
      { now: Date.now },
    );
    const h = await hangs.inline(input());
    expect(h).toMatchObject({ kind: 'refuse', code: 451, verdicts: [{ action: 'tempfail', reasons: [{ rule: 'fail-closed:timeout' }] }] });
    expect(aborted).toBe(true);
  });

  it('passes a failing stage only when it is configured to fail open, and says so', async () => {
    const p = new PolicyPipeline([conf(stage('boom', () => Promise.reject(new Error('down'))), 100, true)], { now: Date.now });
    const d = await p.inline(input());
    expect(d).toMatchObject({ kind: 'accept', route: 'deliver', verdicts: [{ action: 'pass', reasons: [{ rule: 'fail-open:error' }] }] });
  });

  it('refuses with the stage reply, holds into quarantine, routes to scanning when an after-queue stage applies', async () => {
    const reject = new PolicyPipeline([conf(stage('auth', async () => verdict('auth', 'reject', { reply: '5.7.1 DMARC policy of out.test says reject' })))], { now: Date.now });
    expect(await reject.inline(input())).toMatchObject({ kind: 'refuse', code: 550, text: '5.7.1 DMARC policy of out.test says reject' });
    const hold = new PolicyPipeline([conf(stage('spoof', async () => verdict('spoof', 'hold', { reasons: [{ rule: 'own-domain', detail: 'forged-from' }] })))], { now: Date.now });
    expect(await hold.inline(input())).toMatchObject({ kind: 'accept', route: { quarantine: { stage: 'spoof', reason: 'own-domain: forged-from' } } });
    const later = new PolicyPipeline([conf(stage('av', async () => passVerdict('av'), 'after-queue'))], { now: Date.now });
    expect(later.hasAfterQueue('inbound')).toBe(true);
    expect(later.hasAfterQueue('outbound')).toBe(false);
    expect(await later.inline(input())).toMatchObject({ kind: 'accept', route: 'scan', verdicts: [] });
  });

  it('prepends the header fields stages ask for, sanitizes first, and lets later stages read earlier verdicts', async () => {
    let seen: readonly Verdict[] = [];
    let seenRaw = '';
    const p = new PolicyPipeline(
      [
        conf(stage('auth', async (i) => ((seenRaw = Buffer.from(i.raw).toString()), verdict('auth', 'pass', { headers: [['Authentication-Results', 'mx.example.org; spf=pass']], facts: { dmarc: 'pass' } })))),
        conf(stage('spoof', async (i) => ((seen = i.earlier), verdict('spoof', 'tag', { headers: [['X-Postern-Spoof', 'x\r\nInjected: yes']] })))),
      ],
      { now: Date.now, sanitize: (raw) => Buffer.from(Buffer.from(raw).toString().replace('Received: x\r\n', '')) },
    );
    const d = await p.inline(input());
    expect(seenRaw.startsWith('From:')).toBe(true);
    expect(seen.map((v) => v.facts)).toEqual([{ dmarc: 'pass' }]);
    expect(d.kind).toBe('accept');
    if (d.kind !== 'accept') return;
    expect(Buffer.from(d.data).toString()).toBe('Authentication-Results: mx.example.org; spf=pass\r\nX-Postern-Spoof: x Injected: yes\r\nFrom: a@out.test\r\n\r\nbody\r\n');
    // Our own trace field stays first; what the stages add goes right below it.
    expect(insertBelowTrace(Buffer.from('Received: from a\r\n\tby b\r\nFrom: x\r\n\r\n'), Buffer.from('A-R: 1\r\n')).toString()).toBe(
      'Received: from a\r\n\tby b\r\nA-R: 1\r\nFrom: x\r\n\r\n',
    );
  });

  it('after-queue: tempfail retries, reject becomes a hold (the mail is acknowledged already)', async () => {
    const retry = new PolicyPipeline([conf(stage('av', () => Promise.reject(new Error('clamd down')), 'after-queue'))], { now: Date.now });
    expect(await retry.afterQueue(input(), [])).toMatchObject({ kind: 'retry', error: 'av: fail-closed:error' });
    const rej = new PolicyPipeline([conf(stage('av', async () => verdict('av', 'reject', { reasons: [{ rule: 'malware', signature: 'Eicar' }] }), 'after-queue'))], { now: Date.now });
    expect(await rej.afterQueue(input(), [])).toMatchObject({ kind: 'done', next: { quarantine: { stage: 'av', reason: 'malware' } }, data: null });
  });

  it('folds long header values and knows the direction of a message', () => {
    const f = formatField('Authentication-Results', `mx.example.org; ${'dkim=pass header.d=example.org; '.repeat(5)}`);
    for (const line of f.split('\r\n').filter(Boolean)) expect(line.length).toBeLessThanOrEqual(80);
    expect(f.endsWith('\r\n')).toBe(true);
    expect(directionOf('mx', true)).toBe('inbound');
    expect(directionOf('submission', true)).toBe('outbound');
    expect(directionOf('submissions', false)).toBe('internal');
  });
});
