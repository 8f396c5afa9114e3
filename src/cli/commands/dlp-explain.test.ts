/**
 * What `dlp test` and `dlp scan` print: thresholds next to what was found,
 * the direction's actions, and text from a message (part and folder names)
 * escaped so it cannot drive the terminal.
 */
import { describe, expect, it } from 'vitest';
import { buildRules } from '../../policy/dlp/rules/index.js';
import type { Classification } from '../../policy/dlp/types.js';
import { explain, formatExplanation, formatScanItem, printable } from './dlp-explain.js';

const RULES = buildRules(
  `version = 1
[detectors.cards]
type = "credit_card"
[detectors.words]
type = "keywords"
terms = ["privileged"]
[[rules]]
name = "cards"
detectors = ["cards"]
min_count = 2
outbound = ["hold"]
[[rules]]
name = "priv"
detectors = ["words", "cards"]
match = "all"
min_confidence = "high"
outbound = ["tag"]
internal = ["log"]
`,
  [],
);

const sample = (masked: string, source: string) => ({ masked, source });

const C: Classification = {
  matches: [{ rule: 'cards', confidence: 'high', detectors: [{ detector: 'cards', count: 2, confidence: 'high', samples: [sample('4111 **** **** 1111', 'attachment:2/a\x1b[31m.docx')] }] }],
  nearMisses: [{ detector: 'words', count: 1, confidence: 'medium', samples: [sample('privileged', 'body:1')], rules: ['priv'] }],
  findings: [{ kind: 'truncated', part: 'body:1', detail: 'text limit reached' }],
  encrypted: false,
  chars: 1234,
  ms: 5.4,
};

describe('explain', () => {
  it('sets each detector against the rule thresholds, with the actions of the direction', () => {
    const x = explain('m.eml', C, RULES, 'outbound');
    expect(x.actions).toEqual(['hold']);
    expect(x.matches[0]).toMatchObject({ rule: 'cards', minCount: 2, actions: ['hold'], detectors: [{ type: 'credit_card', count: 2 }] });
    expect(x.nearMisses[0]!.needs).toEqual([{ rule: 'priv', match: 'all', minConfidence: 'high', minCount: 1 }]);
    const text = formatExplanation(x);
    expect(text).toMatch(/^m\.eml: 1 rule\(s\) match; outbound: hold$/m);
    expect(text).toMatch(/detector cards \(credit_card\): 2 distinct value\(s\) vs min_count 2, confidence high vs min_confidence medium/);
    expect(text).toMatch(/rule priv needs 1 value\(s\) at confidence high or above, and every one of its detectors/);
    expect(text).toMatch(/truncated {2}body:1 {2}text limit reached/);
    expect(text).toContain('a\\u001b[31m.docx');
    expect(text).not.toContain('\x1b');
    expect(explain('m.eml', C, RULES, 'internal').actions).toEqual(['log']); // a direction the rule leaves out logs
  });
});

describe('formatScanItem', () => {
  it('prints one tab-separated line per message, escaped', () => {
    expect(formatScanItem({ kind: 'match', mailbox: 'a@x.test', folder: 'Work\r\nX', uid: 7, matches: C.matches })).toBe(
      'a@x.test\tWork\\u000d\\u000aX\t7\tmatch\tcards [cards: 4111 **** **** 1111 (attachment:2/a\\u001b[31m.docx)]',
    );
    expect(formatScanItem({ kind: 'encrypted', mailbox: 'a@x.test', folder: 'INBOX', uid: 1, detail: 'body: S/MIME' })).toBe('a@x.test\tINBOX\t1\tnot scannable (encrypted)\tbody: S/MIME');
    expect(printable('x'.repeat(300)).length).toBe(201);
  });
});
