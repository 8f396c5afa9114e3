/**
 * Custom patterns from the rules file, run with re2js (a port of RE2): time
 * linear in the text whatever the pattern, so an administrator's `(a+)+$`
 * cannot stall a worker. RE2 syntax: no back-references, no lookaround.
 * Patterns are checked when the rules are compiled; empty matches are skipped.
 */
import { RE2JS } from 're2js';
import type { Confidence, Hit } from '../types.js';
import { HIT_CAP } from './shared.js';

export const MAX_PATTERN = 1000;

export interface RegexOptions {
  readonly pattern: string;
  readonly caseInsensitive: boolean;
  readonly confidence: Confidence;
}

/** Compiles the pattern, or returns the reason it cannot be used (printable, bounded). */
export function compilePattern(opts: RegexOptions): RE2JS | string {
  if (opts.pattern.length === 0) return 'the pattern is empty';
  if (opts.pattern.length > MAX_PATTERN) return `the pattern is longer than ${MAX_PATTERN} characters`;
  try {
    return RE2JS.compile(opts.pattern, opts.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return `invalid regular expression (RE2 syntax: no back-references or lookaround): ${why.slice(0, 300)}`;
  }
}

export function regexScanner(re: RE2JS, confidence: Confidence): (text: string) => Hit[] {
  return (text) => {
    const hits: Hit[] = [];
    const m = re.matcher(text);
    while (hits.length < HIT_CAP && m.find()) {
      const start = m.start();
      const end = m.end();
      if (end > start) hits.push({ value: text.slice(start, end), index: start, length: end - start, confidence });
    }
    return hits;
  };
}
