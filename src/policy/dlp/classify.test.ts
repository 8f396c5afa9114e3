import { describe, expect, it } from 'vitest';
import { classifyContent, classifyMessage, decideActions } from './classify.js';
import { buildRules } from './rules/load.js';
import { DEFAULT_CONTENT_LIMITS } from './extract/index.js';
import type { ExtractedContent, ExtractFinding, HeaderText, TextSegment } from './types.js';

const RULES = buildRules(
  `version = 1
unscannable_rule = "unscannable"
[detectors.cards]
type = "credit_card"
[detectors.privileged]
type = "keywords"
terms = ["privileged"]
[detectors.labels]
type = "label"
headers = [{ name = "X-Classification", values = ["confidential"] }]
subject_tags = ["[Confidential]"]

[[rules]]
name = "cards"
detectors = ["cards"]
outbound = ["require_tls", "tag"]
[[rules]]
name = "many-cards"
detectors = ["cards"]
min_count = 3
outbound = ["hold"]
[[rules]]
name = "sure-cards"
detectors = ["cards"]
min_confidence = "high"
outbound = ["reject"]
[[rules]]
name = "privileged-cards"
detectors = ["cards", "privileged"]
match = "all"
outbound = ["hold", "tag"]
[[rules]]
name = "labelled"
detectors = ["labels"]
outbound = ["hold"]
[[rules]]
name = "unscannable"
detectors = []
outbound = ["log"]
`,
  [],
);

function content(body: string[], o: { headers?: HeaderText[]; subject?: string; findings?: ExtractFinding[] } = {}): ExtractedContent {
  const segments: TextSegment[] = body.map((text, i) => ({ kind: 'body', source: `body:${i + 1}`, text }));
  if (o.subject) segments.unshift({ kind: 'subject', source: 'subject', text: o.subject });
  return { headers: o.headers ?? [], subject: o.subject ?? '', segments, findings: o.findings ?? [], chars: segments.reduce((n, s) => n + s.text.length, 0) };
}

const CARD = '4111 1111 1111 1111';
const rulesOf = (c: ExtractedContent) => classifyContent(c, RULES).matches.map((m) => m.rule);

describe('classifyContent', () => {
  it.each<[string, ExtractedContent, string[]]>([
    ['nothing', content(['Lunch at noon?']), []],
    ['one card, medium confidence', content([`the number is ${CARD} ok`]), ['cards']],
    ['one card with a card keyword nearby: high', content([`Visa card number ${CARD}, expiry 12/29`]), ['cards', 'sure-cards']],
    ['the same card three times is one value', content([`${CARD} and ${CARD}`, `again ${CARD}`]), ['cards']],
    ['three distinct cards in two parts', content([`${CARD} and 5555 5555 5555 4444`, 'and 3782 822463 10005']), ['cards', 'many-cards']],
    ['a card and the keyword in another part (all)', content([`the number is ${CARD}`, 'This is privileged.']), ['cards', 'privileged-cards']],
    ['the keyword alone (all needs both)', content(['This is privileged.']), []],
    ['a label header', content(['hello'], { headers: [{ name: 'x-classification', value: 'Confidential' }] }), ['labelled']],
    ['a subject tag', content(['hello'], { subject: '[Confidential] plans' }), ['labelled']],
    ['an encrypted archive', content(['see attached'], { findings: [{ kind: 'encrypted', part: 'attachment:2/a.zip', detail: 'encrypted entries' }] }), ['unscannable']],
    ['a number failing Luhn', content(['order 4111 1111 1111 1112']), []],
  ])('%s', (_what, c, expected) => {
    expect(rulesOf(c)).toEqual(expected);
  });

  it('masks every value and keeps at most 3 samples, with where each was found', () => {
    const cards = ['4111 1111 1111 1111', '5555 5555 5555 4444', '3782 822463 10005', '6011 1111 1111 1117', '5105 1051 0510 5100'];
    const c = classifyContent(content([cards.slice(0, 3).join(' and '), cards.slice(3).join(' and ')]), RULES);
    const m = c.matches.find((x) => x.rule === 'many-cards')!;
    expect(m.detectors).toHaveLength(1);
    expect(m.detectors[0]!.count).toBe(5);
    expect(m.detectors[0]!.samples).toHaveLength(3);
    expect(m.detectors[0]!.samples[0]).toEqual({ masked: expect.stringMatching(/^4111 \*{4} \*{4} 1111$/), source: 'body:1' });
    const all = JSON.stringify(c);
    for (const card of cards) {
      expect(all).not.toContain(card);
      expect(all).not.toContain(card.replace(/ /g, ''));
    }
  });

  it('lists detectors that found something below their rules as near misses', () => {
    const c = classifyContent(content(['This is privileged.']), RULES);
    expect(c.matches).toEqual([]);
    expect(c.nearMisses).toEqual([{ detector: 'privileged', count: 1, confidence: expect.any(String), samples: [{ masked: expect.any(String), source: 'body:1' }], rules: ['privileged-cards'] }]);
    const one = classifyContent(content([`the number is ${CARD}`]), RULES);
    expect(one.nearMisses).toEqual([]); // cards matched "cards": not a near miss
  });

  it('says a whole encrypted message is encrypted and counts it as unscannable', () => {
    const c = classifyContent(content([], { findings: [{ kind: 'encrypted-message', part: 'message', detail: 'S/MIME enveloped' }] }), RULES);
    expect(c.encrypted).toBe(true);
    expect(c.matches).toEqual([{ rule: 'unscannable', confidence: 'high', detectors: [{ detector: 'encrypted', count: 1, confidence: 'high', samples: [{ masked: 'encrypted-message', source: 'message' }] }] }]);
    expect(classifyContent(content(['x']), RULES).encrypted).toBe(false);
  });

  it('compiles the detectors again for a new rules version', () => {
    const other = buildRules('version = 1\n[detectors.p]\ntype = "keywords"\nterms = ["lunch"]\n[[rules]]\nname = "lunch"\ndetectors = ["p"]\n', []);
    expect(classifyContent(content(['Lunch at noon?']), other).matches.map((m) => m.rule)).toEqual(['lunch']);
    expect(rulesOf(content(['Lunch at noon?']))).toEqual([]);
  });
});

describe('decideActions', () => {
  it('is the union of the matched rules for the direction, strictest first', () => {
    const m = (rule: string) => ({ rule, confidence: 'high' as const, detectors: [] });
    expect(decideActions([m('cards'), m('labelled')], 'outbound', RULES)).toEqual(['hold', 'require_tls', 'tag']);
    expect(decideActions([m('cards'), m('sure-cards'), m('privileged-cards')], 'outbound', RULES)).toEqual(['reject', 'hold', 'require_tls', 'tag']);
    expect(decideActions([m('cards')], 'inbound', RULES)).toEqual(['log']);
    expect(decideActions([], 'outbound', RULES)).toEqual([]);
  });
});

describe('classifyMessage', () => {
  it('extracts a whole message and classifies it', async () => {
    const raw = new TextEncoder().encode(`From: a@example.org\r\nTo: b@example.net\r\nSubject: [Confidential] q4\r\nX-Classification: confidential\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCard: ${CARD}\r\n`);
    const c = await classifyMessage(raw, RULES, DEFAULT_CONTENT_LIMITS);
    expect(c.matches.map((m) => m.rule)).toEqual(['cards', 'sure-cards', 'labelled']);
    expect(c.chars).toBeGreaterThan(0);
    expect(c.ms).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(c)).not.toContain('1111 1111 1111 1111');
  });
});
