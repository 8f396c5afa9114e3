/**
 * `postern dlp report`: who sends confidential data where, from the events
 * the dlp stage records. dlp.flow answers "which groups send it to which
 * outside domains"; dlp.match and dlp.message give the totals by rule and by
 * result. Only tallies are read (labels, never the values matched).
 */
import type { EventRepo, EventTally } from '../../store/types.js';

export const DLP_REPORT_SCHEMA = 'postern.dlp-report/1';

export interface DlpFlowRow {
  readonly group: string;
  readonly domain: string;
  readonly rule: string;
  readonly count: number;
}

export interface DlpMatchRow {
  readonly rule: string;
  readonly direction: string;
  readonly action: string;
  readonly count: number;
}

export interface DlpMessageRow {
  readonly result: string;
  readonly direction: string;
  readonly count: number;
}

/** The JSON `postern dlp report --json` prints: keys and their meaning stay stable within a schema version. */
export interface DlpReport {
  readonly schema: typeof DLP_REPORT_SCHEMA;
  readonly since: string;
  readonly until: string;
  readonly totals: {
    /** Messages classified (dlp.message). */
    readonly messages: number;
    readonly confidential: number;
    readonly clean: number;
    readonly unscannable: number;
    /** Rule matches (dlp.match: one per message and rule). */
    readonly matches: number;
    /** Message × sender group × rule × outside domain (dlp.flow). */
    readonly flows: number;
  };
  /** Most first; then by group, domain, rule. */
  readonly flows: readonly DlpFlowRow[];
  readonly matches: readonly DlpMatchRow[];
  readonly messages: readonly DlpMessageRow[];
}

const label = (t: EventTally, k: string): string => t.labels[k] ?? '-';

function sorted<T extends { count: number }>(rows: T[], keys: readonly (keyof T)[]): T[] {
  return rows.sort((a, b) => b.count - a.count || keys.reduce((c, k) => c || String(a[k]).localeCompare(String(b[k])), 0));
}

export async function buildDlpReport(events: EventRepo, since: number, until: number): Promise<DlpReport> {
  const [flow, match, message] = await Promise.all([
    events.tally('dlp.flow', since, ['group', 'domain', 'rule'], until),
    events.tally('dlp.match', since, ['rule', 'direction', 'action'], until),
    events.tally('dlp.message', since, ['result', 'direction'], until),
  ]);
  const flows = sorted(
    flow.map((t) => ({ group: label(t, 'group'), domain: label(t, 'domain'), rule: label(t, 'rule'), count: t.count })),
    ['group', 'domain', 'rule'],
  );
  const matches = sorted(
    match.map((t) => ({ rule: label(t, 'rule'), direction: label(t, 'direction'), action: label(t, 'action'), count: t.count })),
    ['rule', 'direction', 'action'],
  );
  const messages = sorted(
    message.map((t) => ({ result: label(t, 'result'), direction: label(t, 'direction'), count: t.count })),
    ['result', 'direction'],
  );
  const byResult = (r: string) => messages.filter((m) => m.result === r).reduce((n, m) => n + m.count, 0);
  const sum = (rows: readonly { count: number }[]) => rows.reduce((n, r) => n + r.count, 0);
  return {
    schema: DLP_REPORT_SCHEMA,
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    totals: {
      messages: sum(messages),
      confidential: byResult('confidential'),
      clean: byResult('clean'),
      unscannable: byResult('unscannable'),
      matches: sum(matches),
      flows: sum(flows),
    },
    flows,
    matches,
    messages,
  };
}

/** Columns padded to their widest cell; the last (a count) right-aligned. Cells are labels the stage wrote: control characters are shown escaped. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const safe = (s: string) => s.replace(/[\p{Cc}\p{Cf}]/gu, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
  const all = [head, ...rows].map((r) => r.map(safe));
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function formatDlpReport(r: DlpReport): string {
  const t = r.totals;
  const out = [
    `DLP report ${r.since} .. ${r.until}`,
    `messages classified: ${t.messages} (confidential ${t.confidential}, clean ${t.clean}, unscannable ${t.unscannable}); rule matches: ${t.matches}`,
    '',
    'Confidential data sent outside, by sender group and recipient domain:',
  ];
  if (r.flows.length === 0) out.push('  (none)');
  else out.push(...table(['group', 'domain', 'rule', 'messages'], r.flows.map((f) => [f.group, f.domain, f.rule, String(f.count)])).map((l) => `  ${l}`));
  out.push('', 'Matches by rule, direction and action:');
  if (r.matches.length === 0) out.push('  (none)');
  else out.push(...table(['rule', 'direction', 'action', 'messages'], r.matches.map((m) => [m.rule, m.direction, m.action, String(m.count)])).map((l) => `  ${l}`));
  out.push('', 'Messages by result and direction:');
  if (r.messages.length === 0) out.push('  (none)');
  else out.push(...table(['result', 'direction', 'messages'], r.messages.map((m) => [m.result, m.direction, String(m.count)])).map((l) => `  ${l}`));
  return out.join('\n');
}
