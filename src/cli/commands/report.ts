import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildReport, renderHtml, renderJson, renderText } from '../../admin/report/index.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { parseSince } from '../duration.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

const FORMATS = { text: renderText, json: renderJson, html: renderHtml } as const;

/** `--until`: like --since (a duration before now, or a date), or an ISO time such as 2026-12-01T12:00:00Z. */
export function parseUntil(text: string, now: number): number {
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(text.trim())) {
    const t = Date.parse(text.trim());
    if (!Number.isNaN(t)) return t;
  }
  try {
    return parseSince(text, now);
  } catch {
    throw new UsageError(`--until takes a duration before now like 7d, a date YYYY-MM-DD or a time like 2026-12-01T12:00:00Z, not ${JSON.stringify(text)}`);
  }
}

/** The window of a report; --since accepts the ISO times --until does too. */
export function reportWindow(o: { since: string; until?: string }, now: number): { since: number; until: number } {
  const until = o.until === undefined ? now : parseUntil(o.until, now);
  let since: number;
  try {
    since = parseUntil(o.since, until);
  } catch {
    throw new UsageError(`--since takes a duration like 30d, 12h, 2w, a date YYYY-MM-DD or a time like 2026-12-01T12:00:00Z, not ${JSON.stringify(o.since)}`);
  }
  if (since >= until) throw new UsageError(`--since (${new Date(since).toISOString()}) must be before --until (${new Date(until).toISOString()})`);
  return { since, until };
}

/** Confidentiality, integrity and availability of mail over a window of time, against the window before it. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('confidentiality, integrity and availability over a window of time, with trends against the window before')
    .option('--since <time>', 'start: a duration before --until (30d, 12h, 2w), a date YYYY-MM-DD or an ISO time', '30d')
    .option('--until <time>', 'end: a duration before now, a date or an ISO time (default: now)')
    .option('--format <format>', 'text, json or html', 'text')
    .option('--output <file>', 'write to this file instead of standard output')
    .action(async (o: { since: string; until?: string; format: string; output?: string }, cmd: Command) => {
      if (!Object.hasOwn(FORMATS, o.format)) throw new UsageError(`--format takes text, json or html, not ${JSON.stringify(o.format)}`);
      const render = FORMATS[o.format as keyof typeof FORMATS];
      const now = Date.now();
      const { since, until } = reportWindow(o, now);
      const report = await withStore(cfg(cmd), (s, config) =>
        buildReport({ events: s.meta.events, deliveryTimes: s.meta.deliveryTimes, queue: s.meta.queue }, { since, until, now, slaTargetPct: config.report.sla_target, schedule: config.maintenance }),
      );
      const out = render(report);
      if (o.output === undefined) process.stdout.write(out);
      else {
        try {
          writeFileSync(o.output, out);
        } catch (err) {
          throw new UsageError(`--output ${JSON.stringify(o.output)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
      }
    });
}
