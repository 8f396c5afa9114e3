/**
 * The text `postern dlp test` and `postern dlp scan` print: why a rule
 * matched (each detector's count and confidence against the rule's
 * thresholds, masked samples and where they were found), the actions for a
 * direction, near misses and extraction findings. Only masked values ever
 * reach here; text from a message (part names) is printed with control
 * characters escaped so a crafted file name cannot move the terminal.
 */
import type { Direction } from '../../core/verdict.js';
import { decideActions } from '../../policy/dlp/classify.js';
import type { ScanItem } from '../../policy/dlp/scan.js';
import type { Classification, DetectorResult, DlpAction, RuleSpec, RulesSpec } from '../../policy/dlp/types.js';

/** Printable and bounded: control and format characters escaped. */
export function printable(s: string, max = 200): string {
  const t = s.replace(/[\p{Cc}\p{Cf}]/gu, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

const samples = (d: DetectorResult): string => d.samples.map((s) => `${printable(s.masked, 80)} (${printable(s.source, 120)})`).join(', ');

export interface RuleExplanation {
  readonly rule: string;
  readonly description: string;
  readonly match: RuleSpec['match'];
  readonly minConfidence: RuleSpec['min_confidence'];
  readonly minCount: number;
  readonly actions: readonly DlpAction[];
  readonly notify: RuleSpec['notify'];
  readonly confidence: string;
  readonly detectors: readonly (DetectorResult & { readonly type: string })[];
}

export interface NearMissNeed {
  readonly rule: string;
  readonly match: RuleSpec['match'];
  readonly minConfidence: RuleSpec['min_confidence'];
  readonly minCount: number;
}

/** The JSON `dlp test --json` prints. */
export interface TestExplanation {
  readonly schema: 'postern.dlp-test/1';
  readonly file: string;
  readonly direction: Direction;
  /** What the stage would do for this direction, strictest first. */
  readonly actions: readonly DlpAction[];
  readonly matches: readonly RuleExplanation[];
  /** Detectors that found something without a rule matching, with what each of their rules needs. */
  readonly nearMisses: readonly (Classification['nearMisses'][number] & { readonly type: string; readonly needs: readonly NearMissNeed[] })[];
  readonly findings: Classification['findings'];
  readonly encrypted: boolean;
  readonly chars: number;
  readonly ms: number;
}

export function explain(file: string, c: Classification, rules: RulesSpec, direction: Direction): TestExplanation {
  const byName = new Map(rules.rules.map((r) => [r.name, r]));
  return {
    schema: 'postern.dlp-test/1',
    file,
    direction,
    actions: decideActions(c.matches, direction, rules),
    matches: c.matches.map((m) => {
      const spec = byName.get(m.rule);
      return {
        rule: m.rule,
        description: spec?.description ?? '',
        match: spec?.match ?? 'any',
        minConfidence: spec?.min_confidence ?? 'low',
        minCount: spec?.min_count ?? 1,
        actions: spec?.actions[direction] ?? [],
        notify: spec?.notify ?? [],
        confidence: m.confidence,
        detectors: m.detectors.map((d) => ({ ...d, type: rules.detectors[d.detector]?.type ?? '?' })),
      };
    }),
    nearMisses: c.nearMisses.map((n) => ({
      ...n,
      type: rules.detectors[n.detector]?.type ?? '?',
      needs: n.rules.flatMap((r) => {
        const spec = byName.get(r);
        return spec ? [{ rule: r, match: spec.match, minConfidence: spec.min_confidence, minCount: spec.min_count }] : [];
      }),
    })),
    findings: c.findings,
    encrypted: c.encrypted,
    chars: c.chars,
    ms: c.ms,
  };
}

export function formatExplanation(x: TestExplanation): string {
  const out: string[] = [];
  const acts = x.actions.length > 0 ? x.actions.join(', ') : 'none';
  out.push(`${printable(x.file)}: ${x.matches.length === 0 ? 'no rule matches' : `${x.matches.length} rule(s) match`}; ${x.direction}: ${acts}`);
  if (x.encrypted) out.push('the message is encrypted as a whole: its content could not be looked at');
  for (const m of x.matches) {
    out.push('');
    out.push(`rule ${m.rule}${m.description ? ` — ${printable(m.description)}` : ''}`);
    out.push(`  matched (${m.match === 'all' ? 'every detector needed' : 'any detector'}; at least ${m.minCount} value(s) at confidence ${m.minConfidence} or above): confidence ${m.confidence}`);
    out.push(`  ${x.direction}: ${m.actions.length > 0 ? m.actions.join(', ') : 'no action'}${m.notify.length > 0 ? `; notify ${m.notify.join(' and ')}` : ''}`);
    for (const d of m.detectors) {
      out.push(`  detector ${d.detector} (${d.type}): ${d.count} distinct value(s) vs min_count ${m.minCount}, confidence ${d.confidence} vs min_confidence ${m.minConfidence}`);
      if (d.samples.length > 0) out.push(`    ${samples(d)}`);
    }
  }
  if (x.nearMisses.length > 0) {
    out.push('', 'near misses (found, but below a rule\'s thresholds or without the rule\'s other detectors):');
    for (const n of x.nearMisses) {
      out.push(`  detector ${n.detector} (${n.type}): ${n.count} distinct value(s), confidence ${n.confidence}`);
      if (n.samples.length > 0) out.push(`    ${samples(n)}`);
      for (const r of n.needs) out.push(`    rule ${r.rule} needs ${r.minCount} value(s) at confidence ${r.minConfidence} or above${r.match === 'all' ? ', and every one of its detectors' : ''}`);
    }
  }
  if (x.findings.length > 0) {
    out.push('', 'findings:');
    for (const f of x.findings) out.push(`  ${f.kind}  ${printable(f.part, 120)}  ${printable(f.detail)}`);
  }
  out.push('', `${x.chars} characters of text looked at in ${Math.round(x.ms)} ms`);
  return out.join('\n');
}

/** One line per scanned message that is not clean: mailbox, folder, UID, what was found. */
export function formatScanItem(i: ScanItem): string {
  const where = `${i.mailbox}\t${printable(i.folder, 120)}\t${i.uid}`;
  switch (i.kind) {
    case 'match':
      return `${where}\tmatch\t${i.matches.map((m) => `${m.rule} [${m.detectors.map((d) => `${d.detector}: ${samples(d) || `${d.count} value(s)`}`).join('; ')}]`).join(' ')}`;
    case 'encrypted':
      return `${where}\tnot scannable (encrypted)\t${printable(i.detail)}`;
    case 'corrupt':
      return `${where}\tcorrupt\t${printable(i.detail)}`;
    case 'failed':
      return `${where}\tfailed\t${printable(i.detail)}`;
  }
}
