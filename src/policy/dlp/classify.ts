/**
 * Classifying a message by the rules: every detector a rule names runs over
 * the extracted text (text detectors per segment, header detectors over the
 * header fields and subject, message detectors over all segments at once),
 * then each rule counts the distinct values found at or above its confidence.
 * Runs in a pool worker: matched values are masked here, before anything
 * leaves, and a Classification carries only masked samples.
 */
import { compileDetector, mask, type CompiledDetector } from './detect/index.js';
import { extractContent } from './extract/index.js';
import type { Direction } from '../../core/verdict.js';
import type { Classification, Confidence, ContentLimits, DetectorResult, DlpAction, ExtractedContent, Hit, RuleMatch, RulesSpec } from './types.js';

const RANK: Record<Confidence, number> = { low: 0, medium: 1, high: 2 };
const SAMPLES = 3;
/** Distinct values remembered per detector: enough for any min_count, bounded for a message full of numbers. */
const MAX_VALUES = 10_000;
/** Compiled detectors kept for this many rules versions (a reload, and a `dlp test` with another file). */
const MAX_KEYS = 4;

const compiledByKey = new Map<string, Map<string, CompiledDetector>>();

function compiled(rules: RulesSpec): Map<string, CompiledDetector> {
  const hit = compiledByKey.get(rules.key);
  if (hit) return hit;
  const m = new Map<string, CompiledDetector>();
  for (const [name, spec] of Object.entries(rules.detectors)) m.set(name, compileDetector(name, spec, rules.fingerprints));
  if (compiledByKey.size >= MAX_KEYS) compiledByKey.delete(compiledByKey.keys().next().value!);
  compiledByKey.set(rules.key, m);
  return m;
}

/** One distinct value a detector found: its best confidence and where it was seen first. */
interface Found {
  confidence: Confidence;
  source: string;
}

function collect(into: Map<string, Found>, hits: readonly Hit[], source: string): void {
  for (const h of hits) {
    const f = into.get(h.value);
    if (f) {
      if (RANK[h.confidence] > RANK[f.confidence]) f.confidence = h.confidence;
    } else if (into.size < MAX_VALUES) into.set(h.value, { confidence: h.confidence, source });
  }
}

function runDetector(d: CompiledDetector, content: ExtractedContent): Map<string, Found> {
  const found = new Map<string, Found>();
  if (d.text) for (const s of content.segments) collect(found, d.text(s.text), s.source);
  if (d.headers) collect(found, d.headers(content.headers, content.subject), 'headers');
  if (d.message) collect(found, d.message(content.segments), 'message');
  return found;
}

/** What a detector found at or above `min`: distinct values, the best confidence, masked samples. */
function resultOf(name: string, type: Parameters<typeof mask>[0], found: ReadonlyMap<string, Found>, min: Confidence): DetectorResult {
  let count = 0;
  let best: Confidence = 'low';
  const samples: { masked: string; source: string }[] = [];
  for (const [value, f] of found) {
    if (RANK[f.confidence] < RANK[min]) continue;
    count++;
    if (RANK[f.confidence] > RANK[best]) best = f.confidence;
    if (samples.length < SAMPLES) samples.push({ masked: mask(type, value), source: f.source });
  }
  return { detector: name, count, confidence: best, samples };
}

const ENCRYPTED = new Set(['encrypted', 'encrypted-message']);

/** Classifies extracted content by the rules (synchronous; detectors compiled once per rules.key). */
export function classifyContent(content: ExtractedContent, rules: RulesSpec): Classification {
  const detectors = compiled(rules);
  const wanted = new Set(rules.rules.flatMap((r) => r.detectors));
  const found = new Map<string, Map<string, Found>>();
  for (const name of wanted) {
    const d = detectors.get(name);
    if (d) found.set(name, runDetector(d, content));
  }
  const encryptedParts = content.findings.filter((f) => ENCRYPTED.has(f.kind));
  const matches: RuleMatch[] = [];
  const missedBy = new Map<string, string[]>();
  const matchedDetectors = new Set<string>();
  for (const rule of rules.rules) {
    const results: DetectorResult[] = [];
    let ok = rule.detectors.length > 0 && rule.match === 'all';
    for (const name of rule.detectors) {
      const spec = rules.detectors[name];
      if (!spec) continue;
      const r = resultOf(name, spec.type, found.get(name) ?? new Map(), rule.min_confidence);
      const hit = r.count >= rule.min_count;
      if (hit) results.push(r);
      ok = rule.match === 'all' ? ok && hit : ok || hit;
    }
    if (rule.name === rules.unscannable_rule && encryptedParts.length > 0) {
      ok = true;
      results.push({ detector: 'encrypted', count: encryptedParts.length, confidence: 'high', samples: encryptedParts.slice(0, SAMPLES).map((f) => ({ masked: f.kind, source: f.part })) });
    }
    if (ok) {
      const confidence = results.reduce<Confidence>((b, r) => (RANK[r.confidence] > RANK[b] ? r.confidence : b), 'low');
      matches.push({ rule: rule.name, confidence, detectors: results });
      for (const r of results) matchedDetectors.add(r.detector);
    } else {
      for (const name of rule.detectors) missedBy.set(name, [...(missedBy.get(name) ?? []), rule.name]);
    }
  }
  const nearMisses: Classification['nearMisses'][number][] = [];
  for (const [name, ruleNames] of missedBy) {
    const f = found.get(name);
    const spec = rules.detectors[name];
    if (!f || f.size === 0 || !spec || matchedDetectors.has(name)) continue;
    nearMisses.push({ ...resultOf(name, spec.type, f, 'low'), rules: ruleNames });
  }
  return {
    matches,
    nearMisses,
    findings: content.findings,
    encrypted: content.findings.some((f) => f.kind === 'encrypted-message'),
    chars: content.chars,
    ms: 0,
  };
}

/** Extracts and classifies a whole message; `ms` is the time both took. */
export async function classifyMessage(raw: Uint8Array, rules: RulesSpec, limits: ContentLimits): Promise<Classification> {
  const t0 = performance.now();
  const content = await extractContent(raw, limits);
  const c = classifyContent(content, rules);
  return { ...c, ms: Math.round(performance.now() - t0) };
}

/** Strictest first: the order in which actions decide (encrypt falls back to hold or reject when it cannot be done). */
export const ACTION_ORDER: readonly DlpAction[] = ['reject', 'hold', 'encrypt', 'require_tls', 'tag', 'log'];

/** The union of the matched rules' actions for a direction, strictest first. */
export function decideActions(matches: readonly RuleMatch[], direction: Direction, rules: Pick<RulesSpec, 'rules'>): DlpAction[] {
  const byName = new Map(rules.rules.map((r) => [r.name, r]));
  const set = new Set<DlpAction>();
  for (const m of matches) for (const a of byName.get(m.rule)?.actions[direction] ?? []) set.add(a);
  return ACTION_ORDER.filter((a) => set.has(a));
}
