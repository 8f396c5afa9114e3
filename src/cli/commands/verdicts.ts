import type { Verdict } from '../../core/verdict.js';

/** Verdicts as the CLI prints them: one line per stage, then its reasons. */
export function printVerdicts(verdicts: readonly Verdict[], indent = ''): void {
  if (verdicts.length === 0) {
    console.log(`${indent}policy:     (no verdicts recorded)`);
    return;
  }
  console.log(`${indent}policy:`);
  for (const v of verdicts) {
    const extra = [v.junk ? 'junk' : '', v.ms !== undefined ? `${v.ms} ms` : ''].filter(Boolean).join(', ');
    console.log(`${indent}  ${v.stage.padEnd(14)} ${v.action}${extra ? ` (${extra})` : ''}`);
    for (const r of v.reasons) {
      const parts = [r.rule, r.engine && `engine=${r.engine}`, r.signature && `signature=${r.signature}`, r.part && `part=${r.part}`, r.detail].filter(Boolean);
      console.log(`${indent}    - ${parts.join(' ')}`);
    }
    for (const [n, val] of v.headers) console.log(`${indent}    + ${n}: ${val.length > 160 ? `${val.slice(0, 157)}...` : val}`);
  }
}
