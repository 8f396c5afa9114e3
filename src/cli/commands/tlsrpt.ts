/**
 * `postern tlsrpt`: writes the day's TLS-RPT reports (RFC 8460), one JSON
 * file per recipient domain, named as RFC 8460 5.3 asks; with --send, also
 * sends each domain's report to the rua= of its _smtp._tls record (the same
 * sender the server runs once a day), once per domain and day.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { tlsReportsForDay } from '../../delivery/outbound/tlsrpt.js';
import { readConfig, resolveConfigPath, UsageError, withStore } from '../context.js';
import { audited } from '../audit.js';
import { systemClock } from '../../core/clock.js';
import { Directory } from '../../directory/directory.js';
import { directoryOptions } from '../../directory/options.js';
import { createLogger } from '../../metrics/logger.js';
import { Spool } from '../../queue/spool.js';
import { createTlsReportSender } from '../outbound.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

function yesterday(): string {
  return new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
}

export function registerTlsRptCommand(program: Command): void {
  program
    .command('tlsrpt')
    .description('write TLS-RPT aggregate reports (RFC 8460) of outbound TLS for one UTC day, one JSON file per recipient domain')
    .option('--day <YYYY-MM-DD>', 'the UTC day (default: yesterday)')
    .option('--out <folder>', 'where to write (default: [delivery] tlsrpt_dir)')
    .option('--org <name>', 'organization-name in the report (default: the server host name)')
    .option('--contact <address>', 'contact-info in the report (default: postmaster@<host name>)')
    .option('--send', "also send each domain's report to the rua= of its _smtp._tls record (once per domain and day)")
    .action(async (o: { day?: string; out?: string; org?: string; contact?: string; send?: boolean }, cmd: Command) => {
      const day = o.day ?? yesterday();
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new UsageError('--day takes a date as YYYY-MM-DD');
      const config = readConfig(cfg(cmd));
      const host = config.server.hostname;
      const out = path.resolve(o.out ?? config.delivery.tlsrpt_dir);
      const reports = await withStore(cfg(cmd), (s) =>
        tlsReportsForDay(s.meta.events, { day, organization: o.org ?? host, contact: o.contact ?? `postmaster@${host}`, sendingMta: host }),
      );
      await fsp.mkdir(out, { recursive: true, mode: 0o750 });
      for (const r of reports) {
        const file = path.join(out, r.fileName);
        await fsp.writeFile(file, `${JSON.stringify(r.report, null, 2)}\n`, { mode: 0o640 });
        const s = r.report.policies.reduce((a, p) => [a[0]! + p.summary['total-successful-session-count'], a[1]! + p.summary['total-failure-session-count']], [0, 0]);
        console.log(`${file}\t${s[0]} successful, ${s[1]} failed session(s)`);
      }
      if (reports.length === 0) console.log(`no outbound TLS sessions on ${day}`);
      if (o.send && reports.length > 0) await sendReports(cfg(cmd), day);
    });
}

async function sendReports(configPath: string, day: string): Promise<void> {
  await withStore(configPath, async (store, config) => {
    const sender = createTlsReportSender(config, store, new Spool(store.blobs, store.meta.queue, systemClock), new Directory(store.meta.directory, directoryOptions(config)), systemClock, createLogger('warn'));
    const outcomes = await sender.sendDay(day);
    for (const r of outcomes) {
      const where = r.targets.map((t) => (t.ok ? `${t.target} ok` : `${t.target} failed: ${t.reason}`)).join(', ');
      console.log(`${r.domain}\t${r.result}${r.detail && r.targets.length === 0 ? ` (${r.detail})` : ''}${where ? `\t${where}` : ''}`);
    }
    const count = (k: string) => outcomes.filter((r) => r.result === k).length;
    await audited(store, 'tlsrpt.send', day, { sent: count('sent'), skipped: count('skipped'), failed: count('failed'), already: count('already') });
  });
}
