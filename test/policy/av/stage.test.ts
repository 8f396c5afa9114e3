/**
 * The malware stage under the real runner and a real clamd: the verdict of a
 * detection in each phase and action, its events (bounded labels, the
 * signature as data), failing closed (and open when configured) while clamd
 * is down, and engine.down / engine.up once per change, not per message.
 */
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClamdEngine } from '../../../src/policy/av/clamav.js';
import type { EngineResult, ScanEngine } from '../../../src/policy/av/engine.js';
import { malwareStage, safeSignature } from '../../../src/policy/av/stage.js';
import { EngineWatch } from '../../../src/policy/av/watch.js';
import { PolicyPipeline } from '../../../src/policy/pipeline/index.js';
import { runStage } from '../../../src/policy/pipeline/run.js';
import type { MessageEnvelope, StageInput } from '../../../src/policy/pipeline/stage.js';
import { Clamd, eicar, EICAR_SIG, mailWith } from '../../support/clamd.js';

const envelope: MessageEnvelope = { sender: 'a@example.org', recipients: ['b@example.test'], helo: 'x', clientAddress: '192.0.2.1', listener: 'mx', authUser: null, tls: true };
const input = (raw: Uint8Array, direction: StageInput['direction'] = 'inbound'): StageInput => ({ queueId: 'Q1', raw, envelope, direction, earlier: [] });
const infected = () => mailWith('a.zip', 'application/zip', zipSync({ 'eicar.com': Buffer.from(eicar(), 'latin1') }));
const cleanMail = () => mailWith('notes.txt', 'text/plain', Buffer.from('hello'));

class Sink {
  readonly seen: { kind: string; subject: string; data: Record<string, unknown> }[] = [];
  record(kind: string, subject: string, data: Record<string, unknown>): void {
    this.seen.push({ kind, subject, data });
  }
  kinds(k: string) {
    return this.seen.filter((e) => e.kind === k);
  }
}

/** An engine that finds one fixed signature in everything, to check that all engines' detections are kept. */
const always = (signature: string): ScanEngine => ({
  name: 'static',
  scan: async (): Promise<EngineResult> => ({ engine: 'static', detections: [{ engine: 'static', signature, part: '2/a.zip' }], version: null, ms: 0 }),
  health: async () => ({ engine: 'static', up: true, version: null, signaturesAt: null }),
  close: async () => undefined,
});

describe('malware stage', () => {
  let clamd: Clamd;
  let engine: ClamdEngine;
  beforeAll(async () => {
    clamd = await Clamd.create();
    engine = new ClamdEngine({ socket: clamd.socket, maxConnections: 2, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await engine?.close();
    await clamd?.dispose();
  });

  it('in-line: refuses with 550 5.7.1 naming the signature; clean mail passes', async () => {
    const sink = new Sink();
    const stage = malwareStage([engine], { phase: 'inline', directions: ['inbound', 'outbound'], action: 'reject', watch: new EngineWatch(sink) });
    const pipeline = new PolicyPipeline([{ stage, settings: { budgetMs: 10_000, failOpen: false } }], { now: Date.now, events: sink });
    const refused = await pipeline.inline({ queueId: 'Q1', raw: infected(), envelope, direction: 'outbound' });
    expect(refused).toMatchObject({ kind: 'refuse', code: 550, text: `5.7.1 Message refused: malware found (${EICAR_SIG})` });
    expect(sink.kinds('malware.detected')).toEqual([
      { kind: 'malware.detected', subject: 'Q1', data: { engine: 'clamav', direction: 'outbound', action: 'reject', signature: EICAR_SIG, part: null, phase: 'inline', stage: 'malware' } },
    ]);
    expect(await pipeline.inline({ queueId: 'Q2', raw: cleanMail(), envelope, direction: 'outbound' })).toMatchObject({ kind: 'accept', route: 'deliver' });
    // A direction the stage is not set for passes without a scan.
    const other = await runStage(stage, { budgetMs: 10_000, failOpen: false }, input(infected(), 'internal'), Date.now);
    expect(other.action).toBe('reject'); // runStage itself does not filter; the runner does:
    expect((await pipeline.inline({ queueId: 'Q3', raw: infected(), envelope, direction: 'internal' })).kind).toBe('accept');
  });

  it('after the queue: holds (quarantine) or tags; reasons carry engine, signature and part from every engine', async () => {
    const watch = new EngineWatch();
    const hold = malwareStage([engine, always('macro-office-document')], { phase: 'after-queue', directions: ['inbound'], action: 'quarantine', watch });
    const pipeline = new PolicyPipeline([{ stage: hold, settings: { budgetMs: 10_000, failOpen: false } }], { now: Date.now });
    const d = await pipeline.afterQueue({ queueId: 'Q4', raw: infected(), envelope, direction: 'inbound' }, []);
    expect(d).toMatchObject({ kind: 'done', next: { quarantine: { stage: 'malware', reason: `malware: clamav: ${EICAR_SIG}` } } });
    expect(d.verdicts[0]!.reasons).toEqual([
      { rule: 'malware', detail: `clamav: ${EICAR_SIG}`, engine: 'clamav', signature: EICAR_SIG },
      { rule: 'malware', detail: 'static: macro-office-document', engine: 'static', signature: 'macro-office-document', part: '2/a.zip' },
    ]);
    const tag = malwareStage([engine], { phase: 'after-queue', directions: ['inbound'], action: 'tag', watch });
    const v = await runStage(tag, { budgetMs: 10_000, failOpen: false }, input(infected()), Date.now);
    expect(v).toMatchObject({ action: 'tag', headers: [['X-Postern-Malware', `${EICAR_SIG} (clamav)`]] });
  });

  it('fails closed while clamd is down (open when configured); engine.down and engine.up once per change', async () => {
    const sink = new Sink();
    const watch = new EngineWatch(sink);
    const stage = malwareStage([engine], { phase: 'inline', directions: ['inbound'], action: 'reject', watch });
    const closed = { budgetMs: 10_000, failOpen: false };
    await clamd.stop();
    try {
      for (let i = 0; i < 3; i++) {
        const v = await runStage(stage, closed, input(cleanMail()), Date.now);
        expect(v).toMatchObject({ action: 'tempfail', reply: expect.stringMatching(/^4\.7\.0 /) });
      }
      expect((await runStage(stage, { budgetMs: 10_000, failOpen: true }, input(infected()), Date.now)).action).toBe('pass');
      // A detection by one engine still decides while another is down.
      const both = malwareStage([engine, always('x')], { phase: 'inline', directions: ['inbound'], action: 'reject', watch });
      expect((await runStage(both, closed, input(cleanMail()), Date.now)).action).toBe('reject');
    } finally {
      await clamd.start();
    }
    expect(sink.kinds('engine.down')).toHaveLength(1);
    expect(sink.kinds('engine.down')[0]).toMatchObject({ subject: 'clamav', data: { engine: 'clamav' } });
    expect(sink.kinds('engine.up')).toHaveLength(0);
    for (let i = 0; i < 2; i++) expect((await runStage(stage, closed, input(cleanMail()), Date.now)).action).toBe('pass');
    expect(sink.kinds('engine.up')).toHaveLength(1);
    expect(sink.kinds('engine.down')).toHaveLength(1);
  });

  it('keeps signature names printable and bounded', () => {
    expect(safeSignature('Win.Trojan.Agent-1 <script>\r\n')).toBe('Win.Trojan.Agent-1__script___');
    expect(safeSignature('x'.repeat(500))).toHaveLength(100);
    expect(safeSignature('')).toBe('unnamed');
  });
});
