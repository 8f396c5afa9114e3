import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../core/verdict.js';
import { MemoryResolver } from '../../net/dns/memory.js';
import { authStage } from '../auth/stage.js';
import { attachmentsStage, type AttachmentRules } from '../av/attachments.js';
import { DEFAULT_EXTRACT_LIMITS } from '../av/parts.js';
import { PoolBatch } from '../pool/batch.js';
import { PolicyPool } from '../pool/pool.js';
import { spoofStage } from '../spoof/stage.js';
import { PolicyPipeline } from './pipeline.js';
import type { ConfiguredStage } from './run.js';
import type { StageInput } from './stage.js';

const env = { sender: 'alice@sender.test', recipients: ['bob@example.org'], helo: 'mail.sender.test', clientAddress: '192.0.2.7', listener: 'mx' as const, authUser: null, tls: false };
const input = (raw: string): Omit<StageInput, 'earlier'> => ({ queueId: 'Q1', raw: Buffer.from(raw.replace(/\n/g, '\r\n')), envelope: env, direction: 'inbound' });

const plain = `From: Alice <alice@sender.test>\nTo: bob@example.org\nSubject: hello\nMessage-ID: <1@sender.test>\n\nHello Bob.\n`;
const withExe = `From: Alice <alice@sender.test>\nTo: bob@example.org\nSubject: invoice\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/octet-stream; name="invoice.pdf.exe"\nContent-Disposition: attachment; filename="invoice.pdf.exe"\nContent-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\n--b--\n`;
const forged = `From: CEO <ceo@example.org>\nTo: bob@example.org\nSubject: wire\n\nPay now.\n`;

const rules = (enabled: boolean): AttachmentRules => ({ enabled, action: 'reject', blockExtensions: new Set(['exe']), blockTypes: new Set(['exe']), blockUnreadableArchives: true });

/** Verdicts without their timings (the only part that may differ between runs). */
const timeless = (vs: readonly Verdict[]) => vs.map(({ ms: _ms, ...v }) => v);

describe('in-line stages batched into one pool task give the verdicts they give alone', () => {
  let pool: PolicyPool;
  beforeAll(() => {
    pool = PolicyPool.open({ threads: 1, maxHeapMb: 128 });
  });
  afterAll(async () => {
    await pool.close();
  });

  const stages = (): ConfiguredStage[] => {
    const resolver = new MemoryResolver({
      'sender.test': { TXT: ['v=spf1 ip4:192.0.2.7 -all'] },
      'mail.sender.test': { TXT: ['v=spf1 ip4:192.0.2.7 -all'] },
      '_dmarc.sender.test': { TXT: ['v=DMARC1; p=reject'] },
      '_dmarc.example.org': { TXT: ['v=DMARC1; p=reject'] },
    });
    const settings = { budgetMs: 20_000, failOpen: false };
    return [
      { stage: authStage({ pool, resolver, budgetMs: 20_000, authservId: 'mx.example.org', mta: 'mx.example.org', decision: { temperror: 'tempfail', overrides: {}, trustedArcSealers: [] }, withSpoofFacts: true }), settings },
      {
        stage: spoofStage({ pool, budgetMs: 20_000, phase: 'inline', actions: {}, context: async () => ({ localDomains: ['example.org'], partnerDomains: [], people: [], internalNetworks: [], sendAs: new Map() }) }),
        settings,
      },
      { stage: attachmentsStage({ pool, phase: 'inline', budgetMs: 20_000, limits: DEFAULT_EXTRACT_LIMITS, rules: { inbound: rules(true), outbound: rules(false), internal: rules(false) } }), settings },
    ];
  };

  it.each([
    ['a plain message', plain, 'accept'],
    ['an .exe attachment', withExe, 'refuse'],
    ['a forged local From', forged, 'refuse'],
  ])('%s: same decision and verdicts, one pool task instead of one per stage', async (_name, raw, kind) => {
    const alone = new PolicyPipeline(stages(), { now: Date.now });
    const batched = new PolicyPipeline(stages(), { now: Date.now, batch: (r, works) => PoolBatch.start(pool, r, works) });
    const before = pool.stats().completed;
    const a = await alone.inline(input(raw));
    const tasksAlone = pool.stats().completed - before;
    const b = await batched.inline(input(raw));
    // The batch's own answers travel ahead of its end: wait (bounded) until the pool has counted it.
    for (let i = 0; i < 500 && pool.stats().completed - before === tasksAlone; i++) await new Promise((r) => setTimeout(r, 10));
    expect(a.kind).toBe(kind);
    expect(b.kind).toBe(kind);
    expect(timeless(b.verdicts)).toEqual(timeless(a.verdicts));
    if (a.kind === 'accept' && b.kind === 'accept') expect(Buffer.from(b.data).equals(Buffer.from(a.data))).toBe(true);
    expect(pool.stats().completed - before - tasksAlone).toBe(1);
    expect(tasksAlone).toBeGreaterThanOrEqual(kind === 'accept' ? 2 : 1);
  });
});
