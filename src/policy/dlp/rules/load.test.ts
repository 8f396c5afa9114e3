import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRules, loadRules, RulesError } from './load.js';
import { DEFAULT_RULES_TOML } from './default.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function fresh(): string {
  const d = mkdtempSync(join(tmpdir(), 'dlp-rules-'));
  dirs.push(d);
  return d;
}

const GOOD = `version = 1
subject_tag = "[Confidential]"
partner_domains = ["Partner.example"]
unscannable_rule = "unscannable"
fingerprint_dir = "fp"

[groups.legal]
manager = "counsel@example.org"
[groups.finance]

[detectors.cards]
type = "credit_card"

[detectors.privileged]
type = "keywords"
terms = ["privileged", "confidential"]
near = { terms = ["attorney-client"], words = 10 }

[detectors.labels]
type = "label"
headers = [{ name = "X-Classification", values = ["confidential"] }]
subject_tags = ["[Confidential]"]

[detectors.merger]
type = "fingerprint"
documents = ["merger-plan"]
threshold = 0.5

[detectors.project]
type = "regex"
pattern = "PRJ-[0-9]{4}-[A-Z]{2}"
confidence = "high"

[[rules]]
name = "payment-cards"
detectors = ["cards"]
outbound = ["require_tls", "tag"]
notify = ["sender", "manager"]

[[rules]]
name = "legal"
detectors = ["privileged", "labels", "merger", "project"]
match = "all"
min_confidence = "high"
min_count = 2
outbound = ["reject"]
internal = []

[[rules]]
name = "unscannable"
detectors = []
`;

const FP = JSON.stringify({ name: 'merger-plan', words: 120, created: '2026-12-01T00:00:00Z', hashes: [1, 5, 99, 4294967295] });

/** The problems a bad rules text gives, as "key: reason" lines. */
function problems(text: string, fp: { name: string; bytes: Uint8Array }[] = []): string[] {
  try {
    buildRules(text, fp);
  } catch (e) {
    if (e instanceof RulesError) return e.problems.map((p) => `${p.key}: ${p.reason}`);
    throw e;
  }
  return [];
}

describe('loadRules', () => {
  it('reads a good file with its fingerprints into a RulesSpec with defaults filled in', async () => {
    const d = fresh();
    mkdirSync(join(d, 'fp'));
    writeFileSync(join(d, 'fp', 'merger-plan.fp.json'), FP);
    writeFileSync(join(d, 'rules.toml'), GOOD);
    const r = await loadRules(join(d, 'rules.toml'));
    expect(r.key).toMatch(/^[0-9a-f]{64}$/);
    expect(r.partner_domains).toEqual(['partner.example']);
    expect(r.subject_tag).toBe('[Confidential]');
    expect(r.unscannable_rule).toBe('unscannable');
    expect(Object.keys(r.groups)).toEqual(['legal', 'finance']);
    expect(r.groups.legal).toEqual({ manager: 'counsel@example.org' });
    expect(r.detectors.privileged).toEqual({ type: 'keywords', terms: ['privileged', 'confidential'], near: { terms: ['attorney-client'], words: 10 } });
    expect(r.fingerprints).toHaveLength(1);
    expect(Array.from(r.fingerprints[0]!.hashes)).toEqual([1, 5, 99, 4294967295]);
    const [cards, legal, unscannable] = r.rules;
    expect(cards).toEqual({
      name: 'payment-cards',
      description: '',
      detectors: ['cards'],
      match: 'any',
      min_confidence: 'medium',
      min_count: 1,
      actions: { outbound: ['require_tls', 'tag'], inbound: ['log'], internal: ['log'] },
      notify: ['sender', 'manager'],
    });
    expect(legal).toMatchObject({ match: 'all', min_confidence: 'high', min_count: 2, actions: { outbound: ['reject'], internal: [] } });
    expect(unscannable?.detectors).toEqual([]);
  });

  it('gives a new key when the file or a fingerprint file changes, the same key for the same bytes', async () => {
    const d = fresh();
    mkdirSync(join(d, 'fp'));
    writeFileSync(join(d, 'fp', 'merger-plan.fp.json'), FP);
    writeFileSync(join(d, 'rules.toml'), GOOD);
    const a = (await loadRules(join(d, 'rules.toml'))).key;
    expect((await loadRules(join(d, 'rules.toml'))).key).toBe(a);
    writeFileSync(join(d, 'fp', 'merger-plan.fp.json'), FP.replace('[1,', '[2,'));
    const b = (await loadRules(join(d, 'rules.toml'))).key;
    expect(b).not.toBe(a);
    writeFileSync(join(d, 'rules.toml'), `${GOOD}\n# a comment\n`);
    expect((await loadRules(join(d, 'rules.toml'))).key).not.toBe(b);
  });

  it('accepts encrypt for outbound and internal mail, with hold as the default fallback', () => {
    const r = buildRules(GOOD.replace('outbound = ["reject"]\ninternal = []', 'outbound = ["encrypt", "tag"]\ninternal = ["encrypt"]').replace('outbound = ["require_tls", "tag"]', 'outbound = ["encrypt"]\nencrypt_fallback = "reject"'), [
      { name: 'merger-plan', bytes: new TextEncoder().encode(FP) },
    ]);
    const legal = r.rules.find((x) => x.name === 'legal');
    expect(legal?.actions).toMatchObject({ outbound: ['encrypt', 'tag'], internal: ['encrypt'] });
    expect(legal?.encrypt_fallback).toBe('hold');
    expect(r.rules.find((x) => x.name === 'payment-cards')?.encrypt_fallback).toBe('reject');
    expect(r.rules.find((x) => x.name === 'unscannable')?.encrypt_fallback).toBeUndefined();
  });

  it('accepts the default rules file init writes', () => {
    const r = buildRules(DEFAULT_RULES_TOML, []);
    expect(r.rules.map((x) => x.name)).toEqual(['payment-cards', 'personal-data', 'bank-routing', 'secrets', 'classified', 'unscannable']);
    expect(r.rules.find((x) => x.name === 'bank-routing')?.min_confidence).toBe('high');
    expect(r.rules.find((x) => x.name === 'secrets')?.actions.outbound).toEqual(['hold']);
  });

  it('names a missing file and a file that is not UTF-8', async () => {
    const d = fresh();
    await expect(loadRules(join(d, 'nope.toml'))).rejects.toThrow(/\(file\): cannot read: file not found/);
    writeFileSync(join(d, 'bin.toml'), Buffer.from([0xff, 0xfe, 0x00]));
    await expect(loadRules(join(d, 'bin.toml'))).rejects.toThrow(RulesError);
  });

  it('names a syntax error with its line', () => {
    expect(problems('version = 1\n[[rules]\n')).toEqual([expect.stringMatching(/^\(syntax\): line 2/)]);
  });

  it.each([
    ['encrypt for inbound mail', GOOD.replace('outbound = ["reject"]', 'outbound = ["reject"]\ninbound = ["log", "encrypt"]'), 'rules[1].inbound[1]: "encrypt" is for outbound and internal mail only'],
    ['a bad encrypt_fallback', GOOD.replace('outbound = ["reject"]', 'outbound = ["encrypt"]\nencrypt_fallback = "deliver"'), 'rules[1].encrypt_fallback: expected one of "hold", "reject"'],
    ['an encrypt_fallback without encrypt', GOOD.replace('outbound = ["reject"]', 'outbound = ["reject"]\nencrypt_fallback = "hold"'), 'rules[1].encrypt_fallback: only applies to a rule whose outbound or internal actions include "encrypt"'],
    ['unknown detector', GOOD.replace('detectors = ["cards"]', 'detectors = ["cardz"]'), 'rules[0].detectors[0]: unknown detector "cardz"'],
    ['unknown key (a typo)', GOOD.replace('min_count = 2', 'min_cuont = 2'), 'rules[1].min_cuont: unknown key (a typo?)'],
    ['unknown key in a detector', GOOD.replace('threshold = 0.5', 'threshold = 0.5\nthreshhold = 1'), 'detectors.merger.threshhold: unknown key (a typo?)'],
    ['unknown detector type', GOOD.replace('type = "credit_card"', 'type = "creditcard"'), 'detectors.cards.type: expected one of'],
    ['a bad action', GOOD.replace('outbound = ["require_tls", "tag"]', 'outbound = ["require_tls", "bounce"]'), 'rules[0].outbound[1]: expected one of'],
    ['empty detectors outside the unscannable rule', GOOD.replace('detectors = ["cards"]', 'detectors = []'), 'rules[0].detectors: a rule needs at least one detector'],
    ['an unscannable rule that does not exist', GOOD.replace('unscannable_rule = "unscannable"', 'unscannable_rule = "sealed"'), 'unscannable_rule: no [[rules]] entry is named "sealed"'],
    ['a rule name twice', GOOD.replace('name = "legal"', 'name = "payment-cards"'), 'rules[1].name: the rule name "payment-cards" is used twice'],
    ['an unknown document', GOOD.replace('documents = ["merger-plan"]', 'documents = ["merger-plan", "budget"]'), 'detectors.merger.documents[1]: no registered document "budget"'],
    ['a bad threshold', GOOD.replace('threshold = 0.5', 'threshold = 2'), 'detectors.merger.threshold: expected a number above 0'],
    ['a wrong confidence', GOOD.replace('min_confidence = "high"', 'min_confidence = "certain"'), 'rules[1].min_confidence: expected one of "low", "medium", "high"'],
    ['a bad manager', GOOD.replace('manager = "counsel@example.org"', 'manager = "counsel"'), 'groups.legal.manager: expected a mail address'],
    ['a bad version', GOOD.replace('version = 1', 'version = 2'), 'version: expected 1'],
    ['no version', GOOD.replace('version = 1', ''), 'version: '],
    ['a bad regex', GOOD.replace('pattern = "PRJ-[0-9]{4}-[A-Z]{2}"', 'pattern = "PRJ-(\\\\d+"'), 'detectors.project: invalid regular expression'],
    ['a label detector without labels', GOOD.replace('headers = [{ name = "X-Classification", values = ["confidential"] }]\nsubject_tags = ["[Confidential]"]', ''), 'detectors.labels: a label detector needs headers or subject_tags'],
  ])('names %s', (_what, text, expected) => {
    const fp = [{ name: 'merger-plan', bytes: new TextEncoder().encode(FP) }];
    const got = problems(text, fp);
    expect(got.some((p) => p.startsWith(expected)), got.join('\n')).toBe(true);
  });

  it('reports every mistake at once', () => {
    const text = GOOD.replace('outbound = ["reject"]', 'outbound = ["reject"]\ninbound = ["encrypt"]').replace('detectors = ["cards"]', 'detectors = ["cardz"]').replace('threshold = 0.5', 'threshold = 0');
    const got = problems(text, [{ name: 'merger-plan', bytes: new TextEncoder().encode(FP) }]);
    expect(got.length).toBeGreaterThanOrEqual(3);
    expect(got.join('\n')).toMatch(/rules\[1\]\.inbound\[0\][^]*rules\[0\]\.detectors\[0\]|rules\[0\]\.detectors\[0\][^]*rules\[1\]\.inbound\[0\]/);
    expect(got.join('\n')).toContain('detectors.merger.threshold');
  });

  it.each([
    ['not JSON', '{', 'not valid JSON'],
    ['hashes not sorted', JSON.stringify({ name: 'merger-plan', words: 3, created: '2026-12-01', hashes: [5, 1] }), 'sorted and distinct'],
    ['a name that differs from the file', JSON.stringify({ name: 'other', words: 3, created: '2026-12-01', hashes: [1] }), '"name" must be "merger-plan"'],
    ['a hash beyond 32 bits', JSON.stringify({ name: 'merger-plan', words: 3, created: '2026-12-01', hashes: [4294967296] }), 'not a 32-bit'],
    ['the text itself', JSON.stringify({ name: 'merger-plan', words: 3, created: '2026-12-01', hashes: [1], text: 'secret plan' }), 'unknown key "text"'],
  ])('names a fingerprint file with %s (and its detector then names no document)', (_what, body, expected) => {
    const got = problems(GOOD, [{ name: 'merger-plan', bytes: new TextEncoder().encode(body) }]);
    expect(got.some((p) => p.startsWith('fingerprint_dir: merger-plan.fp.json: ') && p.includes(expected)), got.join('\n')).toBe(true);
    expect(got.some((p) => p.startsWith('detectors.merger.documents[0]'))).toBe(true);
  });

  it('puts the file path and each problem on its own line in the message', () => {
    try {
      buildRules(GOOD.replace('detectors = ["cards"]', 'detectors = ["cardz"]'), [{ name: 'merger-plan', bytes: new TextEncoder().encode(FP) }], '/etc/postern/dlp-rules.toml');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe('/etc/postern/dlp-rules.toml: a mistake in the DLP rules file:\n  rules[0].detectors[0]: unknown detector "cardz"');
    }
  });
});
