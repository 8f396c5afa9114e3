import type { Command } from 'commander';
import { resolveConfigPath, withStore } from '../context.js';
import { parseSince } from '../duration.js';
import { buildSpoofReport, SPOOF_FIELDS } from '../../policy/spoof/report.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

/**
 * Spoofed and forged mail counted by detector, origin (inside / outside the
 * organisation), result and the action taken, from the `spoof.detected` events.
 */
export function registerSpoofCommands(program: Command): void {
  const spoof = program.command('spoof').description('spoofed and forged mail');
  spoof
    .command('report')
    .description('counts of spoofed and forged mail by detector and origin')
    .option('--since <duration>', 'how far back: 90m, 12h, 7d, 2w or YYYY-MM-DD', '7d')
    .option('--json', 'machine-readable output')
    .action(async (o: { since: string; json?: boolean }, cmd: Command) => {
      const since = parseSince(o.since, Date.now());
      const { rows, total, byOrigin } = await withStore(cfg(cmd), (s) => buildSpoofReport(s.meta.events, since));
      if (o.json) {
        console.log(JSON.stringify({ since: new Date(since).toISOString(), total, byOrigin, rows: rows.map((r) => ({ ...r.labels, count: r.count })) }, null, 2));
        return;
      }
      console.log(`spoofed or forged messages since ${new Date(since).toISOString()}: ${total} (inside ${byOrigin.inside}, outside ${byOrigin.outside})`);
      if (rows.length === 0) return;
      const table = [['detector', 'origin', 'result', 'action', 'count'], ...rows.map((r) => [...SPOOF_FIELDS.map((f) => r.labels[f] ?? '-'), String(r.count)])];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table) console.log(row.map((c, i) => (i === row.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  '));
    });
}
