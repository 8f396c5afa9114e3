/**
 * `postern dmarc`: the DMARC aggregate reports other receivers mailed about
 * our domains. `report` shows who sends mail as them and whether it passes;
 * `import` stores report files kept elsewhere (XML, .xml.gz, .zip or .eml).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { extractReportsFromFile } from '../../policy/dmarc-report/index.js';
import type { DmarcReportRepo, DmarcSummaryRow } from '../../store/types.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { parseSince } from '../duration.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

export { parseSince };

const pct = (n: number, total: number): string => (total === 0 ? '-' : `${Math.round((100 * n) / total)}%`);

/** The summary as an aligned text table, one line per domain, source IP and header From. */
export function formatSummary(rows: readonly DmarcSummaryRow[]): string {
  if (rows.length === 0) return 'no DMARC aggregate reports in this period';
  const head = ['DOMAIN', 'SOURCE IP', 'HEADER FROM', 'COUNT', 'DMARC PASS', 'DMARC FAIL', 'DKIM PASS', 'SPF PASS', 'REPORTERS'];
  const body = rows.map((r) => [
    r.domain,
    r.sourceIp,
    r.headerFrom,
    String(r.count),
    String(r.dmarcPass),
    String(r.dmarcFail),
    pct(r.dkimPass, r.count),
    pct(r.spfPass, r.count),
    r.reporters.join(', '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : i >= 3 && i <= 7 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const total = rows.reduce((a, r) => [a[0]! + r.count, a[1]! + r.dmarcFail], [0, 0]);
  return [line(head), ...body.map(line), '', `${total[0]} message(s) reported, ${total[1]} failing DMARC, from ${rows.length} source(s)`].join('\n');
}

export interface ImportOutcome {
  readonly file: string;
  readonly stored: number;
  readonly duplicates: number;
  readonly problems: string[];
}

/** Reads each file and stores the reports it holds; unreadable files are reported, never fatal. */
export async function importReportFiles(repo: DmarcReportRepo, files: readonly string[], now: number): Promise<ImportOutcome[]> {
  const out: ImportOutcome[] = [];
  for (const file of files) {
    let data: Buffer;
    try {
      const st = await fsp.stat(file);
      // A report file is small; a saved message with attachments a little larger.
      if (st.size > 32 * 1024 * 1024) {
        out.push({ file, stored: 0, duplicates: 0, problems: [`${file}: larger than 32 MiB`] });
        continue;
      }
      data = await fsp.readFile(file);
    } catch (e) {
      out.push({ file, stored: 0, duplicates: 0, problems: [`${file}: ${(e as Error).message}`] });
      continue;
    }
    const { reports, problems } = extractReportsFromFile(data, path.basename(file));
    let stored = 0;
    let duplicates = 0;
    for (const r of reports) {
      if (await repo.add(r, now)) stored++;
      else duplicates++;
    }
    out.push({ file, stored, duplicates, problems });
  }
  return out;
}

export function registerDmarcCommands(program: Command): void {
  const dmarc = program.command('dmarc').description('DMARC aggregate reports (RFC 7489) other receivers sent about our domains');
  dmarc
    .command('report')
    .description('who sends mail as our domains, per source IP, with DMARC, DKIM and SPF results from the reports received')
    .option('--since <when>', 'reports whose period ends after this: 7d, 12h, 2w, or YYYY-MM-DD', '7d')
    .option('--domain <domain>', 'only this policy domain')
    .option('--json', 'machine-readable output')
    .action(async (o: { since: string; domain?: string; json?: boolean }, cmd: Command) => {
      const since = parseSince(o.since, Date.now());
      const domain = o.domain?.trim().toLowerCase().replace(/\.$/, '');
      const rows = await withStore(cfg(cmd), (s) => s.meta.dmarcReports.summary({ since, ...(domain ? { domain } : {}) }));
      if (o.json) console.log(JSON.stringify({ since: new Date(since).toISOString(), ...(domain ? { domain } : {}), rows }, null, 2));
      else console.log(formatSummary(rows));
    });
  dmarc
    .command('import <file...>')
    .description('store aggregate reports from files: XML, .xml.gz, .zip, or a saved message (.eml)')
    .action(async (files: string[], _o, cmd: Command) => {
      const results = await withStore(cfg(cmd), (s) => importReportFiles(s.meta.dmarcReports, files, Date.now()));
      let failed = 0;
      for (const r of results) {
        for (const p of r.problems) console.error(p);
        console.log(`${r.file}: ${r.stored} report(s) stored, ${r.duplicates} already known`);
        if (r.stored + r.duplicates === 0) failed++;
      }
      if (failed > 0) throw new UsageError(`${failed} of ${files.length} file(s) held no readable report`);
    });
}
