import type { Command } from 'commander';
import { resolveConfigPath, withStore } from '../context.js';
import { parseSince } from '../duration.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

/** Delivery times per direction: acceptance to the mailbox (inbound, internal) or to the remote server's 250 (outbound). */
export function registerDeliveryCommands(program: Command): void {
  const d = program.command('delivery').description('how mail was delivered');
  d.command('times')
    .description('delivery times per direction: count, average and percentiles')
    .option('--since <duration>', 'how far back: 90m, 12h, 7d, 2w or YYYY-MM-DD', '7d')
    .option('--json', 'machine-readable output')
    .action(async (o: { since: string; json?: boolean }, cmd: Command) => {
      const since = parseSince(o.since, Date.now());
      const rows = await withStore(cfg(cmd), (s) => s.meta.deliveryTimes.summary({ since }));
      if (o.json) return void console.log(JSON.stringify({ since: new Date(since).toISOString(), rows }, null, 2));
      if (rows.length === 0) return void console.log(`no deliveries since ${new Date(since).toISOString()}`);
      const sec = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 3 : 1);
      const table = [['direction', 'count', 'avg s', 'p50 s', 'p95 s', 'p99 s', 'max s'], ...rows.map((r) => [r.direction, String(r.count), sec(r.avgMs), sec(r.p50Ms), sec(r.p95Ms), sec(r.p99Ms), sec(r.maxMs)])];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    });
}
