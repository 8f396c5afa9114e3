/**
 * The `dlp` stage: the verdict for each action and direction, attribution to
 * the sender's groups and the recipients' classes, the notices, and the stage
 * through a real worker pool (run npm run build first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Direction } from '../../core/verdict.js';
import type { MessageEnvelope } from '../pipeline/stage.js';
import { PolicyPool } from '../pool/index.js';
import { attribute, directorySnapshots, orderGroups, type Attribution, type DirectorySnapshot } from './attribution.js';
import { DEFAULT_CONTENT_LIMITS } from './extract/index.js';
import { buildRules } from './rules/load.js';
import { dlpStage } from './stage.js';
import { dlpVerdict } from './stage-verdict.js';
import type { Classification, RuleMatch } from './types.js';

const RULES = buildRules(
  `version = 1
subject_tag = "[Confidential]"
partner_domains = ["partner.test"]
unscannable_rule = "unscannable"
[groups.legal]
manager = "counsel@example.test"
[groups.board]
manager = "chair@example.test"
[detectors.cards]
type = "credit_card"
[detectors.labels]
type = "label"
headers = [{ name = "X-Classification", values = ["confidential"] }]
[detectors.secrets]
type = "private_key"

[[rules]]
name = "payment-cards"
detectors = ["cards"]
outbound = ["require_tls", "tag"]
internal = ["log"]
inbound = []
notify = ["sender"]
[[rules]]
name = "classified"
detectors = ["labels"]
outbound = ["hold"]
notify = ["sender", "manager"]
[[rules]]
name = "secrets"
detectors = ["secrets"]
outbound = ["reject"]
notify = ["sender"]
[[rules]]
name = "unscannable"
detectors = []
outbound = ["log"]
`,
  [],
);

const match = (rule: string, detector = 'cards'): RuleMatch => ({ rule, confidence: 'medium', detectors: [{ detector, count: 2, confidence: 'medium', samples: [{ masked: '4111 **** **** 1111', source: 'body:1' }] }] });
const classified = (matches: RuleMatch[], over: Partial<Classification> = {}): Classification => ({ matches, nearMisses: [], findings: [], encrypted: false, chars: 10, ms: 1, ...over });
const legalAlice: Attribution = {
  sender: 'alice@example.test',
  groups: ['legal', 'board'],
  destinations: [
    { domain: 'example.test', class: 'internal' },
    { domain: 'partner.test', class: 'partner' },
    { domain: 'outside.test', class: 'external' },
  ],
  widest: 'external',
};
const verdict = (matches: RuleMatch[], direction: Direction = 'outbound', o: { attribution?: Attribution; phase?: 'inline' | 'after-queue'; c?: Partial<Classification> } = {}) =>
  dlpVerdict({ classification: classified(matches, o.c), rules: RULES, direction, phase: o.phase ?? 'inline', attribution: o.attribution ?? legalAlice, queueId: 'Q1', recipients: ['bob@example.test', 'x@partner.test', 'y@outside.test'] });

describe('dlpVerdict', () => {
  it('passes a clean message and counts it', () => {
    const v = verdict([]);
    expect(v).toMatchObject({ stage: 'dlp', action: 'pass', headers: [] });
    expect(v.events).toEqual([{ kind: 'dlp.message', labels: { direction: 'outbound', result: 'clean', action: 'none' } }]);
    expect(v.notices).toBeUndefined();
  });

  it('require_tls + tag: the verify floor in meta, both header fields, the subject tag, a notice to the sender', () => {
    const v = verdict([match('payment-cards')]);
    expect(v.action).toBe('tag');
    expect(v.meta).toEqual({ tlsFloor: 'verify' });
    expect(v.headers).toEqual([
      ['X-Postern-DLP-TLS', 'required'],
      ['X-Postern-DLP', 'payment-cards'],
    ]);
    expect(v.subjectTag).toBe('[Confidential]');
    expect(v.notices).toHaveLength(1);
    expect(v.notices![0]).toMatchObject({ to: 'alice@example.test', subject: 'Your message is sent only over verified TLS' });
    expect(v.notices![0]!.text).toContain('payment-cards');
    expect(v.notices![0]!.text).toContain('4111 **** **** 1111 (body:1)');
    expect(v.notices![0]!.text).toContain('queue id Q1');
  });

  it('hold: held, the sender and each group manager told', () => {
    const v = verdict([match('classified', 'labels')]);
    expect(v.action).toBe('hold');
    expect(v.meta).toBeUndefined();
    expect(v.reasons[0]).toEqual({ rule: 'classified', detail: 'labels×2' });
    expect(v.notices!.map((n) => n.to)).toEqual(['alice@example.test', 'counsel@example.test', 'chair@example.test']);
    expect(v.notices![0]!.subject).toBe('Your message is held: it contains confidential data');
    expect(v.notices![1]!.text).toMatch(/^A message from alice@example\.test \(group legal, board\) to bob@example\.test, x@partner\.test, y@outside\.test \(queue id Q1\) is held for review/);
  });

  it('reject: 550 text naming the rule; after the queue the notice says held', () => {
    const v = verdict([match('secrets', 'secrets'), match('payment-cards')]);
    expect(v.action).toBe('reject');
    expect(v.reply).toBe('5.7.1 Message refused: it contains data classified as confidential (rule secrets). Remove it or ask your administrator.');
    expect(v.notices![0]!.subject).toBe('Your message was refused: it contains confidential data');
    expect(verdict([match('secrets', 'secrets')], 'outbound', { phase: 'after-queue' }).notices![0]!.subject).toBe('Your message is held: it contains confidential data');
  });

  it('log (internal): passes, counted, no header', () => {
    const v = verdict([match('payment-cards')], 'internal', { attribution: { ...legalAlice, destinations: [{ domain: 'example.test', class: 'internal' }], widest: 'internal' } });
    expect(v).toMatchObject({ action: 'pass', headers: [] });
    expect(v.events).toContainEqual({ kind: 'dlp.message', labels: { direction: 'internal', result: 'confidential', action: 'log' } });
    expect(v.events.filter((e) => e.kind === 'dlp.flow')).toEqual([]);
  });

  it('never notifies for inbound mail, and an outside sender gets no notice', () => {
    expect(verdict([match('classified', 'labels')], 'inbound').notices).toBeUndefined();
    const outsider = { ...legalAlice, sender: null, groups: [] };
    expect(verdict([match('classified', 'labels')], 'outbound', { attribution: outsider }).notices).toBeUndefined();
  });

  it('counts dlp.match once per rule with the first group and the widest destination, dlp.flow per group and outside domain', () => {
    const v = verdict([match('payment-cards')]);
    const m = v.events.filter((e) => e.kind === 'dlp.match');
    expect(m).toEqual([
      {
        kind: 'dlp.match',
        labels: { rule: 'payment-cards', group: 'legal', direction: 'outbound', destination: 'external', action: 'require_tls' },
        data: { sender: 'alice@example.test', groups: ['legal', 'board'], domains: ['example.test', 'partner.test', 'outside.test'], confidence: 'medium', count: 2 },
      },
    ]);
    const flows = v.events.filter((e) => e.kind === 'dlp.flow').map((e) => `${e.labels.group}>${String(e.data?.domain)}:${e.labels.destination}`);
    expect(flows).toEqual(['legal>partner.test:partner', 'legal>outside.test:external', 'board>partner.test:partner', 'board>outside.test:external']);
    const none = verdict([match('payment-cards')], 'outbound', { attribution: { ...legalAlice, groups: [] } });
    expect(none.events.filter((e) => e.kind !== 'dlp.message').every((e) => e.labels.group === 'none')).toBe(true);
  });

  it('counts an encrypted message leaving the organisation as unscannable, not inbound', () => {
    const enc = { rule: 'unscannable', confidence: 'high' as const, detectors: [{ detector: 'encrypted', count: 1, confidence: 'high' as const, samples: [] }] };
    const out = verdict([enc], 'outbound', { c: { encrypted: true, findings: [{ kind: 'encrypted-message', part: 'message', detail: 'pkcs7' }] } });
    expect(out.events[0]).toEqual({ kind: 'dlp.message', labels: { direction: 'outbound', result: 'unscannable', action: 'log' } });
    expect(out.events.some((e) => e.kind === 'dlp.match' && e.labels.rule === 'unscannable')).toBe(true);
    const inb = verdict([enc], 'inbound', { c: { encrypted: true } });
    expect(inb.events).toEqual([{ kind: 'dlp.message', labels: { direction: 'inbound', result: 'clean', action: 'none' } }]);
  });
});

describe('attribution', () => {
  const snap: DirectorySnapshot = {
    localDomains: new Set(['example.test']),
    groups: new Map([
      ['alice@example.test', ['zeta', 'board', 'legal']],
      ['bob@example.test', []],
    ]),
  };
  const env = (o: Partial<MessageEnvelope>): MessageEnvelope => ({ sender: 'alice@example.test', recipients: ['bob@example.test'], helo: 'x', clientAddress: '127.0.0.1', listener: 'submission', authUser: 'alice@example.test', tls: true, ...o });

  it('orders groups as the rules file lists them, then alphabetically', () => {
    expect(orderGroups(['zeta', 'board', 'legal', 'alpha'], RULES)).toEqual(['legal', 'board', 'alpha', 'zeta']);
  });

  it.each<[string, Partial<MessageEnvelope>, string | null, string[]]>([
    ['the account that logged in on submission', { sender: 'other@example.test', authUser: 'Alice@example.test' }, 'alice@example.test', ['legal', 'board', 'zeta']],
    ['a local envelope sender on the local listener', { listener: 'local', authUser: null }, 'alice@example.test', ['legal', 'board', 'zeta']],
    ['nobody for mail from the Internet, even with a local MAIL FROM', { listener: 'mx', authUser: null }, null, []],
    ['nobody for an outside envelope sender', { listener: 'local', sender: 'x@outside.test', authUser: null }, null, []],
  ])('attributes to %s', (_what, over, sender, groups) => {
    const a = attribute(env(over), snap, RULES);
    expect(a.sender).toBe(sender);
    expect(a.groups).toEqual(groups);
  });

  it('classes recipient domains and finds the widest', () => {
    expect(attribute(env({}), snap, RULES)).toMatchObject({ destinations: [{ domain: 'example.test', class: 'internal' }], widest: 'internal' });
    const a = attribute(env({ recipients: ['bob@example.test', 'x@Partner.test', 'y@partner.test'] }), snap, RULES);
    expect(a.destinations).toEqual([
      { domain: 'example.test', class: 'internal' },
      { domain: 'partner.test', class: 'partner' },
    ]);
    expect(a.widest).toBe('partner');
    expect(attribute(env({ recipients: ['x@partner.test', 'z@else.test'] }), snap, RULES).widest).toBe('external');
  });

  it('reads the directory at most once a minute and keeps the last snapshot when it fails', async () => {
    let t = 0;
    let reads = 0;
    let fail = false;
    const dir = {
      listDomains: async () => {
        reads++;
        if (fail) throw new Error('store down');
        return [{ name: 'Example.test' }];
      },
      listGroups: async () => [{ name: 'legal' }],
      listGroupMembers: async () => ['Alice@example.test'],
    };
    const get = directorySnapshots(dir, () => t);
    const a = await get();
    expect(a.groups.get('alice@example.test')).toEqual(['legal']);
    expect([...a.localDomains]).toEqual(['example.test']);
    t = 59_000;
    await get();
    expect(reads).toBe(1);
    t = 61_000;
    fail = true;
    expect(await get()).toBe(a);
    expect(reads).toBe(2);
  });
});

describe('the dlp stage through a worker', () => {
  let pool: PolicyPool;
  beforeAll(() => {
    pool = PolicyPool.open({ threads: 1 });
  });
  afterAll(() => pool.close());

  it('classifies in the worker and maps the verdict; no card number in clear comes back', async () => {
    const snap: DirectorySnapshot = { localDomains: new Set(['example.test']), groups: new Map([['alice@example.test', ['legal']]]) };
    const stage = dlpStage({ pool, phase: 'inline', directions: ['outbound', 'internal'], budgetMs: 10_000, limits: DEFAULT_CONTENT_LIMITS, rules: () => RULES, directory: async () => snap });
    const raw = new TextEncoder().encode('From: alice@example.test\r\nTo: y@outside.test\r\nSubject: order\r\nX-Classification: Confidential\r\n\r\nPlease charge 4111 1111 1111 1111 today.\r\n');
    const envelope: MessageEnvelope = { sender: 'alice@example.test', recipients: ['y@outside.test'], helo: 'x', clientAddress: '127.0.0.1', listener: 'submission', authUser: 'alice@example.test', tls: true };
    const v = await stage.run({ queueId: 'Q9', raw, envelope, direction: 'outbound', earlier: [] }, { signal: new AbortController().signal, now: Date.now });
    expect(v.action).toBe('hold');
    expect(v.meta).toEqual({ tlsFloor: 'verify' });
    expect(v.events.filter((e) => e.kind === 'dlp.match').map((e) => e.labels.rule)).toEqual(['payment-cards', 'classified']);
    expect(v.notices!.map((n) => n.to).sort()).toEqual(['alice@example.test', 'counsel@example.test']);
    expect(JSON.stringify(v)).not.toMatch(/4111 ?1111 ?1111 ?1111/);
  });
});
